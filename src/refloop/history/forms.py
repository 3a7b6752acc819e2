"""The upload form of the history import page."""

from django import forms

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class HistoryUploadForm(forms.Form):
    file = forms.FileField(
        label="History file",
        help_text=".csv (UTF-8) or .xlsx, one row per referral or an event log, line 1 the "
        "column names.",
        error_messages={"required": "Choose the file to import."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    only_good = forms.BooleanField(
        label="Import only the good rows",
        required=False,
        help_text="Rows with problems are listed and left out. Without this, a file with any "
        "bad row imports nothing.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it "
                "into several files by year."
            )
        return upload
