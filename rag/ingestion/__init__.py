"""Turning uploaded files into searchable text: parsers, chunking, content hashes.

Pure functions over bytes; the pipeline that stores documents and chunks, and the
Celery tasks that run it, live elsewhere in ``rag``.
"""
