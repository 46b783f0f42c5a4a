"""Sales → Import jobs (SPEC §13, §14): the "Import orders" page (upload a JSON Lines file or a
JSON array), and each job's page with a progress bar that follows it (the page reloads itself
every two seconds while the job is queued or running: a meta refresh, no script) and its first
100 errors with line numbers."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from config.errors import DomainError
from sales.models import ImportJob, ImportJobStatus
from sales.services.import_jobs import import_job_create

PERM = "sales.import_order"


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="JSON Lines (one order document per line) or a JSON array of documents.")
    skip_existing = forms.BooleanField(required=False, help_text="Skip documents whose reference was already "
                                                                 "imported (else they fail).")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "progress", "total", "imported", "skipped", "failed_count", "created_by",
                    "created_at", "finished_at")
    list_filter = ("status",)
    list_select_related = ("created_by",)
    fields = ("status", "progress", "chunk_summary", "format", "skip_existing", "total", "processed", "imported", "skipped",
              "failed_count", "error_list", "failure", "created_by", "created_at", "started_at", "finished_at")
    readonly_fields = fields
    change_form_template = "admin/sales/importjob/change_form.html"
    change_list_template = "admin/sales/importjob/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("upload")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(PERM) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False  # jobs are made by the upload page, never typed in

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Progress")
    def progress(self, job: ImportJob):
        percent = 100 if job.total == 0 else round(100 * job.processed / job.total)
        return format_html('<progress max="100" value="{}">{}%</progress> {}%', percent, percent, percent)

    @admin.display(description="Chunks")
    def chunk_summary(self, job: ImportJob):
        """How the job was split over the workers (the detail page only: one query)."""
        chunks = list(job.chunks.values_list("status", "worker"))
        if not chunks:
            return "—"
        done = sum(1 for status, _ in chunks if status == ImportJobStatus.DONE)
        workers = sorted({worker for _, worker in chunks if worker})
        return f"{done} of {len(chunks)} done" + (f" · by {', '.join(workers)}" if workers else "")

    @admin.display(description="Errors (first 100)")
    def error_list(self, job: ImportJob):
        if not job.errors:
            return "—"
        rows = format_html("".join("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>" for _ in job.errors),
                           *[v for e in job.errors for v in (e.get("line"), e.get("reference") or "",
                                                             e.get("code"), e.get("message"))])
        return format_html("<table><thead><tr><th>Line</th><th>Reference</th><th>Code</th><th>Message</th></tr>"
                           "</thead><tbody>{}</tbody></table>", rows)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("upload/", wrap(self.upload_view), name="sales_importjob_upload"), *super().get_urls()]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        job = ImportJob.objects.defer("upload").filter(id=object_id).first() if object_id else None
        running = job is not None and job.status in (ImportJobStatus.QUEUED, ImportJobStatus.RUNNING)
        return super().changeform_view(request, object_id, form_url, {**(extra_context or {}), "job_running": running})

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "can_upload": request.user.has_perm(PERM)})

    def upload_view(self, request):
        if not request.user.has_perm(PERM):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                job = import_job_create(upload=raw.decode("utf-8-sig"), actor=request.user,
                                        skip_existing=form.cleaned_data["skip_existing"])
            except UnicodeDecodeError:
                form.add_error("file", "The file must be UTF-8 text.")
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                messages.success(request, f"Import job {job.id} started.")
                return HttpResponseRedirect(reverse("admin:sales_importjob_change", args=[job.id]))
        context = {**self.admin_site.each_context(request), "title": "Import orders", "form": form,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/sales/importjob/upload.html", context)
