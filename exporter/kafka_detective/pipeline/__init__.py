"""The collection pipeline: the top of the runtime, below only the HTTP server and the exporter process.

A cycle drives the layers below it one way, kafka -> gathering -> signals -> analysis -> metrics, and publishes
the rendered page that serving reads (the import contract of `make lint` keeps that direction).
"""
