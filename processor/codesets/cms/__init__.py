"""Offline CMS tooling: the importers of the published files, building a code-set store,
and the list/show/diff reports. Never imported by the worker or the scrubber."""
