"""python manage.py rag_reembed — embed the stored chunks again after the embedding
model changed (``RAG_EMBEDDING_MODEL``). See ``rag.reembed``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rag.reembed import documents_to_reembed, reembed_all
from rag.services import embedding_model_name


class Command(BaseCommand):
    help = (
        "Embed again, with the configured embedding model (or --model), the chunks of every "
        "ready document that has chunks embedded by another model (--all: every document). "
        "Documents stay searchable meanwhile."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", default=None, help="default: RAG_EMBEDDING_MODEL")
        parser.add_argument(
            "--all", action="store_true", help="every ready document, not only the stale ones"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the documents it would do"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model: str = options["model"] or embedding_model_name()
        pending = documents_to_reembed(model, everything=options["all"]).count()
        self.stdout.write(f"{pending} document(s) to embed with {model!r}")
        if options["dry_run"] or not pending:
            return
        done = failed = chunks = 0
        for document, count, error in reembed_all(model=model, everything=options["all"]):
            if error is not None:
                failed += 1
                self.stderr.write(f"  #{document.pk} {document.title}: {error}")
                continue
            done += 1
            chunks += count
            self.stdout.write(f"  [{done + failed}/{pending}] #{document.pk} {document.title}")
        self.stdout.write(f"{done} document(s), {chunks} chunk(s) embedded; {failed} failed")
        if failed:
            raise CommandError(f"{failed} document(s) could not be embedded; run it again")
