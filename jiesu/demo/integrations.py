"""The demo city's outside contracts: Open311 attributes for two services, and two API clients with fixed,
published demo keys (so the README's curl examples work). Never use these keys outside the demo."""

from django.contrib.auth import get_user_model

from jiesu.integrations.models import ApiClient, ServiceAttribute

DEMO_CLIENTS = [
    # name, acts as, key
    ("demo-city-app", "operator", "demoapp.jiesu-demo-city-app-2026"),
    ("demo-street-system", "jw_handler", "demostreet.jiesu-demo-street-2026"),
]
ATTRIBUTES = [
    (
        "010101",
        "SHOP_TYPE",
        "singlevaluelist",
        True,
        "经营类型",
        [("food", "餐饮"), ("fruit", "水果"), ("other", "其他")],
    ),
    ("010101", "WHEN", "multivaluelist", False, "出现时段", [("am", "上午"), ("pm", "下午"), ("night", "夜间")]),
    ("020401", "ROOM_TEMP", "number", False, "室内温度（℃）", []),
]


def seed_attributes() -> None:
    orders: dict[str, int] = {}
    for code, attr, datatype, required, description, values in ATTRIBUTES:
        orders[code] = orders.get(code, 0) + 1
        ServiceAttribute.objects.get_or_create(
            category_code=code,
            code=attr,
            defaults={
                "datatype": datatype,
                "required": required,
                "description": description,
                "order": orders[code],
                "values": [{"key": k, "name": n} for k, n in values],
            },
        )


def ensure_clients() -> list[tuple[str, str, str]]:
    users = get_user_model().objects
    for name, username, key in DEMO_CLIENTS:
        client = ApiClient.objects.filter(name=name).first() or ApiClient(name=name)
        client.user = users.filter(username=username).first()
        client.issue_key(key)
        client.save()
    return DEMO_CLIENTS
