from django.core.management.base import BaseCommand

from sales.services.import_jobs import import_jobs_resume


class Command(BaseCommand):
    help = ("Resume the import jobs whose worker died (no batch saved for IMPORT_JOB_STALE_SECONDS) and send the "
            "ones still queued that long (the beat job, once). Without a broker they run here.")

    def handle(self, *args, **options):
        n = import_jobs_resume()
        self.stdout.write(f"{n} import job{'' if n == 1 else 's'} resumed")
