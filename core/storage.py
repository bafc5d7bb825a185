"""Static files in production: whitenoise's compressed, content-hashed storage, which also rewrites
the import statements of the ES modules (static/js/, static/js/lib/) to the hashed names. Without
it, a module imported by another would load under its plain name, a second copy beside the one the
page's script element loaded (two offline stores, two syncs)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
