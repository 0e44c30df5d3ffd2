"""The upload page of regional figures (常住人口, urban/rural split, survey results): ``indicators:population_upload``.

Thin: the form takes the file and an optional source; ``populations.import_file`` checks every row
(inside the uploader's region) and writes all or nothing. Permission ``registry.import_institution``
(the regulators who import the registry's network also import its denominators).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from xinqiao.core.forms import StyledForm
from xinqiao.indicators import populations
from xinqiao.registry.models import Measure

PERMISSION = "registry.import_institution"
MAX_BYTES = 10 * 1024 * 1024


class PopulationUploadForm(StyledForm):
    file = forms.FileField(label=_("CSV file or Excel workbook (.xlsx)"))
    source = forms.CharField(label=_("source"), max_length=255, required=False,
                             help_text=_("Written on rows whose 来源 column is empty, e.g. 第七次全国人口普查."))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("The file is larger than 10 MB."))
        return upload


@login_required
@permission_required(PERMISSION, raise_exception=True)
def population_upload(request: HttpRequest) -> HttpResponse:
    """Upload a file of figures; nothing is written unless every row is right."""
    result = None
    form = PopulationUploadForm()
    if request.method == "POST":
        form = PopulationUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            result = populations.import_file(upload.read(), upload.name, source=form.cleaned_data["source"],
                                             user=request.user)
            if result.ok:
                messages.success(request, _("%(rows)s figures imported: %(created)s new, %(updated)s updated, "
                                            "%(unchanged)s unchanged.") % {
                    "rows": result.rows, "created": result.created, "updated": result.updated,
                    "unchanged": result.unchanged})
                return redirect("indicators:population_upload")
    status = 400 if (result is not None and not result.ok) or form.errors else 200
    return render(request, "indicators/population_upload.html",
                  {"form": form, "result": result, "measures": Measure.choices,
                   "columns": populations.COLUMNS}, status=status)
