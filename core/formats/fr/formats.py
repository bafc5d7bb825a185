# Flux's date formats in French (settings.FORMAT_MODULE_PATH), the same as the pages' scripts print
# with Intl.DateTimeFormat("fr", {dateStyle: "long"}) (static/js/lib/when.js): "2 août 2026" (never
# the abbreviated "2 Aoû 2026" of Django's `M`). Every other format falls back to Django's own.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
