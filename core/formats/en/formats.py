# Flux's date formats in English (settings.FORMAT_MODULE_PATH), the same as the pages' scripts
# print with Intl.DateTimeFormat(lang, {dateStyle: "long"}) (static/js/lib/when.js): "August 2, 2026".
# Every other format falls back to Django's own for the language.
DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = "F j, Y, H:i"
