"""Org units (the city tree plus departments and companies) and users' memberships."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    SUBDISTRICT = "subdistrict", _("Subdistrict (街道)")
    TOWNSHIP = "township", _("Township (乡)")
    TOWN = "town", _("Town (镇)")
    AREA_OFFICE = "area_office", _("Area office (地区)")
    COMMUNITY = "community", _("Community (社区)")
    VILLAGE = "village", _("Village (村)")
    DEPARTMENT = "department", _("Department (委办局)")
    PUBLIC_SERVICE_COMPANY = "public_service_company", _("Public-service company")
    HOTLINE_CENTRE = "hotline_centre", _("Hotline centre")


STREET_TOWNSHIP_KINDS = frozenset({UnitKind.SUBDISTRICT, UnitKind.TOWNSHIP, UnitKind.TOWN, UnitKind.AREA_OFFICE})
COMMUNITY_KINDS = frozenset({UnitKind.COMMUNITY, UnitKind.VILLAGE})


class OrgUnit(models.Model):
    """A unit of the city: the tree city → district → street/township → community, and beside it the
    departments, public-service companies and the hotline centre (children of the city).

    `path` is a materialised path of codes ("/110000/110105/110105001/"), so "this unit and everything
    below it" is one `path__startswith` filter.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [models.Index(fields=["kind", "is_active"])]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.path = (self.parent.path if self.parent else "/") + f"{self.code}/"
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def is_street_township(self) -> bool:
        return self.kind in STREET_TOWNSHIP_KINDS

    def district(self) -> "OrgUnit | None":
        """The district this unit lies in (itself if it is one)."""
        unit: OrgUnit | None = self
        while unit is not None and unit.kind != UnitKind.DISTRICT:
            unit = unit.parent
        return unit


class Role(models.TextChoices):
    HOTLINE_OPERATOR = "hotline_operator", _("Hotline operator")
    DISPATCHER = "dispatcher", _("Dispatcher")
    CALLBACK_AGENT = "callback_agent", _("Callback agent")
    UNIT_HANDLER = "unit_handler", _("Unit handler")
    UNIT_LEADER = "unit_leader", _("Unit leader")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMINISTRATOR = "administrator", _("Administrator")
    # issue 20 / 21: cadre work (the Party's organisation line beside the hotline's own roles)
    ORG_DEPARTMENT = "org_department", _("Organisation department")
    PARTY_SECRETARY = "party_secretary", _("Party secretary")
    DISCIPLINE = "discipline", _("Discipline inspection")
    TRAINER = "trainer", _("Training office")


HOTLINE_ROLES = frozenset({Role.HOTLINE_OPERATOR, Role.DISPATCHER, Role.CALLBACK_AGENT})
UNIT_ROLES = frozenset({Role.UNIT_HANDLER, Role.UNIT_LEADER})


class Membership(models.Model):
    """A user belongs to exactly one org unit, in one role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="membership"
    )
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["unit", "role"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit} ({self.get_role_display()})"


class PlaceHintKind(models.TextChoices):
    ALIAS = "alias", _("Alias")
    ROAD = "road", _("Road")
    LANDMARK = "landmark", _("Landmark")
    COMPOUND = "compound", _("Residential compound (小区)")


class PlaceHint(models.Model):
    """A gazetteer entry an administrator adds: a name people use ("国贸", "天通苑", "长安街") that points to a
    district, street/township or community. One text may point to several units; the place is then ambiguous."""

    text = models.CharField(_("text"), max_length=50, db_index=True)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="place_hints")
    kind = models.CharField(_("kind"), max_length=16, choices=PlaceHintKind.choices, default=PlaceHintKind.LANDMARK)
    note = models.CharField(_("note"), max_length=255, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("place hint")
        verbose_name_plural = _("place hints (gazetteer)")
        ordering = ["text"]
        constraints = [models.UniqueConstraint(fields=["text", "unit"], name="place_hint_unique")]

    def __str__(self) -> str:
        return f"{self.text} → {self.unit}"
