"""The bench's second labelled fax set, drawn independently of refloop's own generator.

Layouts are HTML/CSS (forms, letters, EHR printouts, payer and hospital forms), printed by
Chromium, rasterised at fax resolution and degraded; labels say what each packet carries.
Bench-only code: nothing in src/refloop imports it.
"""
