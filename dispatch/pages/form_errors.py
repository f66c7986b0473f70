"""A refused page form in words: its first error, named by the field, as a DispatchError the
page's refusal path shows beside the form (the booking page, the call page's forms)."""

from __future__ import annotations

from django import forms

from common.errors import InvalidInput


def first_error(form: forms.Form) -> InvalidInput:
    field, errors = next(iter(form.errors.items()))
    return InvalidInput(f"{field.replace('_', ' ').capitalize()}: {errors[0]}", field)
