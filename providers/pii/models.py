"""Who may send personal data to which external model: the PII policy rules."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PiiAction(models.TextChoices):
    ALLOW = "allow", _("allow")
    MASK = "mask", _("mask")
    BLOCK = "block", _("block")


class PiiPolicy(models.Model):
    """One rule: what happens to personal data found in a request to an external model.

    A rule applies to a department and its whole subtree (``department`` null: the
    organisation-wide rule) and to one model group (``model_name`` blank: every
    external model).

    Precedence, for a caller in department D calling model M:
    1. the rules of the nearest department on the way up the tree win: D's own
       rules, else its parent's, and so on up to the root, and only then the
       organisation-wide rules (``department`` null);
    2. at that level, a rule naming M wins over the rule for every model;
    3. with no applicable rule at all, ``settings.PII_DEFAULT_ACTION`` applies.
    So a department's rule overrides an organisation-wide one even when the latter
    names the model: the department is nearer.
    """

    department = models.ForeignKey(
        "orgs.Department",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pii_policies",
        verbose_name=_("department"),
    )
    model_name = models.CharField(_("model"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=8, choices=PiiAction.choices)
    created_by = models.ForeignKey(
        "orgs.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        "orgs.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("personal data rule")
        verbose_name_plural = _("personal data rules")
        ordering = ("department__path", "model_name")
        constraints = [
            # NULLS NOT DISTINCT: one organisation-wide rule per model as well.
            models.UniqueConstraint(
                fields=("department", "model_name"),
                name="pii_policy_unique_scope",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        department = self.department.code if self.department is not None else "*"
        return f"{department} / {self.model_name or '*'}: {self.action}"
