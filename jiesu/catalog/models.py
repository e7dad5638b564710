"""Catalogues: the three-level category tree and the dispatch catalogue, both versioned by effective date.

A row applies from `effective_from` (inclusive) until `effective_to` (exclusive, open when empty).
A change is made by ending the old row and adding a new one, so history keeps the rules it was judged by.
"""

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiesu.orgs.models import OrgUnit, UnitKind


class TimeLimitClass(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    UTILITIES = "utilities", _("Utilities (water, power, gas, heating)")
    ORDINARY = "ordinary", _("Ordinary")
    COMPLEX = "complex", _("Complex")


class OwnerKind(models.TextChoices):
    STREET_TOWNSHIP = "street_township", _("Street/township")
    DISTRICT = "district", _("District")
    DEPARTMENT = UnitKind.DEPARTMENT.value, _("Department")
    PUBLIC_SERVICE_COMPANY = UnitKind.PUBLIC_SERVICE_COMPANY.value, _("Public-service company")


class EffectiveQuerySet(models.QuerySet[Any]):
    def effective_on(self, day: dt.date) -> "EffectiveQuerySet":
        return self.filter(Q(effective_from__lte=day), Q(effective_to__isnull=True) | Q(effective_to__gt=day))


class Effective(models.Model):
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until (exclusive)"), null=True, blank=True)

    objects = EffectiveQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_effective_on(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


class Category(Effective):
    """A node of the three-level category tree (一级/二级/三级). Only leaves (level 3) classify tickets;
    a leaf names its time-limit class and the kind of unit that owns it."""

    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(
        _("level"), choices=[(1, _("Level 1")), (2, _("Level 2")), (3, _("Level 3"))]
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    time_limit_class = models.CharField(
        _("time-limit class"), max_length=16, choices=TimeLimitClass.choices, blank=True
    )
    owner_kind = models.CharField(_("owning unit kind"), max_length=32, choices=OwnerKind.choices, blank=True)
    keywords = models.CharField(_("keywords"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "effective_from"], name="category_code_version"),
            models.CheckConstraint(
                condition=Q(level__lt=3) | ~Q(time_limit_class="") & ~Q(owner_kind=""),
                name="category_leaf_has_class_and_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_leaf(self) -> bool:
        return self.level == 3

    def full_name(self) -> str:
        names: list[str] = []
        node: Category | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))


class DispatchRule(Effective):
    """Dispatch catalogue row: category × area → lead unit and optional assisting units.

    `area` is a district or a street/township; empty means city-wide. The most specific area wins.
    With `lead_is_area_street` the lead is the street/township where the ticket's place lies.
    """

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="dispatch_rules"
    )
    area = models.ForeignKey(
        OrgUnit, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("lead unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_is_area_street = models.BooleanField(_("lead is the ticket's street/township"), default=False)
    assist_units = models.ManyToManyField(OrgUnit, verbose_name=_("assisting units"), blank=True, related_name="+")
    street_assists = models.BooleanField(_("the ticket's street/township assists"), default=False)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("dispatch catalogue rule")
        verbose_name_plural = _("dispatch catalogue")
        ordering = ["category__code", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead_unit__isnull=False) | Q(lead_is_area_street=True), name="dispatch_rule_has_lead"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.area or _('City-wide')}"


class KnowledgeEntry(models.Model):
    """智识库: a checked answer an operator reads out (and records) to answer a consultation directly."""

    title = models.CharField(_("question"), max_length=200)
    answer = models.TextField(_("answer"))
    keywords = models.CharField(_("keywords"), max_length=255, blank=True, help_text=_("Separated by spaces."))
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    policy_basis = models.TextField(_("policy basis"), blank=True)
    owner_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("owning unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Empty: no end date."))
    source = models.CharField(_("source"), max_length=200, blank=True)
    source_ticket = models.CharField(_("from ticket"), max_length=20, blank=True, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("knowledge entry")
        verbose_name_plural = _("knowledge entries")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
