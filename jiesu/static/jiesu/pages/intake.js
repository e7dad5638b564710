// intake: moved out of the template so the page runs under the Content Security Policy (no inline scripts).
document.getElementById("intake-form").addEventListener("keydown", function (e) {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.requestSubmit(); }
});
