"""Forms of the paperwork pages: the spreadsheet upload (errors name the field, in the user's language)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinqiao.core.forms import StyledForm
from xinqiao.paperwork.services import limits


class ImportForm(StyledForm):
    """An .xlsx or .csv file, and whether to import it when every row is valid or only check it."""

    CHECK, IMPORT = "check", "import"

    file = forms.FileField(label=_("Spreadsheet (.xlsx or .csv)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}))
    action = forms.ChoiceField(
        label=_("What to do"), initial=IMPORT, widget=forms.RadioSelect,
        choices=[(IMPORT, _("Check every row, and import the file if no row has an error")),
                 (CHECK, _("Only check the rows (import nothing)"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].widget.attrs["class"] = "form-check-input"

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = limits()["max_file_mb"]
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than %(limit)s MB: split it into several files.")
                                        % {"limit": limit})
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Upload an Excel workbook (.xlsx) or a CSV file."))
        return upload
