"""`jiesu nlp …`: train and use the text classifier from the command line.

  jiesu nlp train --input FILE.csv|.xlsx --text-cols COL[,COL…] --label-col COL --model PATH
                  [--unlabelled FILE --unlabelled-text-cols COL[,COL…]] [--taxonomy FILE]
  jiesu nlp predict --model PATH --input FILE --text-cols COL[,COL…] --output OUT.csv
  jiesu nlp train-platform [--no-activate]     (category classifier and router from closed tickets)
  jiesu nlp models                             (versions on disk, which is active)
  jiesu nlp activate KIND VERSION

Rows whose label cell is empty are used as unlabelled texts. `--taxonomy` names a file whose first column is a
label and whose other columns are names beneath it (the Teddy Cup 附件1 has this shape); these names teach the
model what each class is called. Bad files get one line saying what is wrong, and exit status 2.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiesu.intel import services
from jiesu.intel.classifier import Doc, TextModel
from jiesu.intel.models import ModelKind, TextModelVersion
from jiesu.intel.tabular import columns_arg, read_table, read_taxonomy, write_csv
from jiesu.lib.errors import ServiceError


class Command(BaseCommand):
    help = "Train and use the request-text classifier (train, predict, train-platform, models, activate)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train a model from a labelled CSV/Excel file")
        train.add_argument("--input", required=True, type=Path)
        train.add_argument("--text-cols", required=True, type=columns_arg)
        train.add_argument("--label-col", required=True)
        train.add_argument("--model", required=True, type=Path)
        train.add_argument("--unlabelled", type=Path)
        train.add_argument("--unlabelled-text-cols", type=columns_arg)
        train.add_argument("--taxonomy", type=Path)
        predict = sub.add_parser("predict", help="add predicted, confidence and top3 columns to a file")
        predict.add_argument("--model", required=True, type=Path)
        predict.add_argument("--input", required=True, type=Path)
        predict.add_argument("--text-cols", required=True, type=columns_arg)
        predict.add_argument("--output", required=True, type=Path)
        platform = sub.add_parser("train-platform", help="train the category classifier and router from tickets")
        platform.add_argument("--no-activate", action="store_true")
        sub.add_parser("models", help="list model versions")
        activate = sub.add_parser("activate", help="switch the active model of a kind")
        activate.add_argument("kind", choices=ModelKind.values)
        activate.add_argument("version")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "do_" + options["action"].replace("-", "_"))(**options)
        except ServiceError as e:
            raise CommandError(str(e), returncode=2) from None

    # --- file based ---------------------------------------------------------------------------------------
    def do_train(self, **o: Any) -> None:
        table = read_table(o["input"])
        table.require([*o["text_cols"], o["label_col"]])
        docs: list[Doc] = []
        labels: list[str] = []
        unlabelled: list[Doc] = []
        empty = 0
        for row in table.rows:
            doc = table.texts(row, o["text_cols"])
            label = (row.get(o["label_col"]) or "").strip()
            if not any(doc):
                empty += 1
            elif label:
                docs.append(doc)
                labels.append(label)
            else:
                unlabelled.append(doc)
        classes = sorted(set(labels))
        if not docs:
            raise CommandError(
                _("No row has both a text and a label in %(path)s.") % {"path": o["input"]}, returncode=2
            )
        if len(classes) < 2:
            raise CommandError(
                _("The label column “%(col)s” has only one class (%(label)s); at least two are needed.")
                % {"col": o["label_col"], "label": classes[0]},
                returncode=2,
            )
        if len(docs) >= 20 and len(classes) > len(docs) / 2:
            raise CommandError(
                _("The label column “%(col)s” differs on almost every row (%(k)d classes in %(n)d rows): is it an id?")
                % {"col": o["label_col"], "k": len(classes), "n": len(docs)},
                returncode=2,
            )
        if o["unlabelled"]:
            extra = read_table(o["unlabelled"])
            cols = o["unlabelled_text_cols"] or o["text_cols"]
            extra.require(cols)
            unlabelled += [d for r in extra.rows if any(d := extra.texts(r, cols))]
        taxonomy = {k: v for k, v in read_taxonomy(o["taxonomy"]).items() if k in classes} if o["taxonomy"] else {}
        model = TextModel().fit(docs, labels, unlabelled=unlabelled, taxonomy=taxonomy)
        model.meta["source"] = str(o["input"])
        model.meta["text_cols"] = o["text_cols"]
        model.save(o["model"])
        cv = model.meta.get("cv3", {})
        self.stdout.write(
            _(
                "Trained on %(n)d labelled rows (%(k)d classes), %(u)d unlabelled, %(t)d taxonomy names; "
                "%(e)d empty rows skipped. 3-fold check: accuracy %(acc)s, macro-F1 %(f1)s. Saved to %(path)s."
            )
            % {
                "n": len(docs),
                "k": len(classes),
                "u": len(unlabelled),
                "t": model.meta["taxonomy_names"],
                "e": empty,
                "acc": cv.get("accuracy", "—"),
                "f1": cv.get("macro_f1", "—"),
                "path": o["model"],
            }
        )

    def do_predict(self, **o: Any) -> None:
        model = self._load(o["model"])
        table = read_table(o["input"])
        table.require(o["text_cols"])
        docs = [table.texts(r, o["text_cols"]) for r in table.rows]
        filled = [i for i, d in enumerate(docs) if any(d)]
        tops = model.top([docs[i] for i in filled], 3) if filled else []
        out = [dict(r, predicted="", confidence="", top3="") for r in table.rows]
        for i, top in zip(filled, tops, strict=True):
            out[i].update(
                predicted=top[0][0],
                confidence=f"{top[0][1]:.4f}",
                top3="|".join(f"{label}:{p:.4f}" for label, p in top),
            )
        columns = [
            *(c for c in table.columns if c not in ("predicted", "confidence", "top3")),
            "predicted",
            "confidence",
            "top3",
        ]
        write_csv(o["output"], columns, out)
        self.stdout.write(
            _("Predicted %(n)d rows (%(e)d without text left blank) into %(path)s.")
            % {"n": len(filled), "e": len(docs) - len(filled), "path": o["output"]}
        )

    @staticmethod
    def _load(path: Path) -> TextModel:
        if not path.is_file():
            raise CommandError(_("Model file %(path)s does not exist.") % {"path": path}, returncode=2)
        try:
            return TextModel.load(path)
        except Exception as e:  # a foreign or damaged file: say so, do not dump a traceback
            raise CommandError(_("%(path)s is not a jiesu model file.") % {"path": path}, returncode=2) from e

    # --- the platform's own models ----------------------------------------------------------------------
    def do_train_platform(self, **o: Any) -> None:
        for train in (services.train_category_model, services.train_router):
            row = train(activate=not o["no_activate"])
            self.stdout.write(
                f"{row.get_kind_display()} {row.version}: {row.labelled} labelled, {row.classes} classes, "
                f"{row.metrics}{' · active' if row.is_active else ''}"
            )

    def do_models(self, **o: Any) -> None:
        for row in TextModelVersion.objects.all():
            mark = "*" if row.is_active else " "
            self.stdout.write(f"{mark} {row.kind:<9} {row.version}  {row.labelled:>7}  {row.source}  {row.metrics}")

    def do_activate(self, **o: Any) -> None:
        row = services.activate_version(o["kind"], o["version"], reason="jiesu nlp activate")
        self.stdout.write(
            _("%(version)s is now the active %(kind)s model.") % {"version": row.version, "kind": row.kind}
        )
