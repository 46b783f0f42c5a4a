from django.core.management.base import BaseCommand

from sales.services.import_jobs import import_jobs_resume


class Command(BaseCommand):
    help = ("Resume the import-job chunks whose worker died (no batch saved for IMPORT_JOB_STALE_SECONDS) and send "
            "the chunks and jobs still queued that long (the beat job, once). Without a broker they run here.")

    def handle(self, *args, **options):
        n = import_jobs_resume()
        self.stdout.write(f"{n} import task{'' if n == 1 else 's'} sent again (jobs and chunks)")
