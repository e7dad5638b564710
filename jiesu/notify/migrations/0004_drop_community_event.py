"""The community-event foreign key goes (0003 copied it into the generic source); the (source record, user) pair stays
unique and a notification has exactly one source: a ticket event or a registered source's record."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notify", "0003_generic_source"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="notification", name="one_notification_per_cevent_user"),
        migrations.RemoveField(model_name="notification", name="community_event"),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                fields=("source", "source_id", "user"), name="one_notification_per_source_user"
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(("event__isnull", False), ("source", ""), ("source_id__isnull", True))
                | (models.Q(("event__isnull", True), ("source_id__isnull", False)) & ~models.Q(("source", ""))),
                name="notification_has_one_source",
            ),
        ),
    ]
