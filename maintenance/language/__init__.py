"""The language a person reads: message catalogues (gettext, made with Babel), choosing the
language of a request, and the locale's formats of times and numbers (docs/i18n.md)."""
