"""A notification's source becomes generic: the ticket event stays a foreign key (the hot path); every other source
is (registered name, record id, when it happened). Existing community notifications become source "community" with
the community event's id and time, so they read and open as before. (The foreign key goes in 0004: on PostgreSQL
the data change and the table change run in separate transactions.)"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Notification = apps.get_model("notify", "Notification")
    CommunityEvent = apps.get_model("community", "CommunityEvent")
    at = CommunityEvent.objects.filter(pk=OuterRef("community_event_id")).values("at")[:1]
    Notification.objects.filter(community_event__isnull=False).update(
        source="community", source_id=models.F("community_event_id"), source_at=Subquery(at)
    )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Notification = apps.get_model("notify", "Notification")
    Notification.objects.filter(source="community").update(community_event_id=models.F("source_id"))
    Notification.objects.filter(event__isnull=True, community_event__isnull=True).delete()  # other sources
    if schema_editor.connection.vendor == "postgresql":
        # the foreign-key checks of the rows just changed fire now, so that the table can be altered next in this
        # transaction ("pending trigger events" otherwise)
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):

    dependencies = [
        ("community", "0001_initial"),
        ("notify", "0002_notification_community_event_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="source",
            field=models.CharField(blank=True, default="", max_length=40, verbose_name="source"),
        ),
        migrations.AddField(
            model_name="notification",
            name="source_id",
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name="source record"),
        ),
        migrations.AddField(
            model_name="notification",
            name="source_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="happened"),
        ),
        migrations.RemoveConstraint(model_name="notification", name="notification_has_one_event"),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
