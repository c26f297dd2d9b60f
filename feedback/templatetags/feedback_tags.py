from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """`mapping[key]`, or None: labels for codes in report tables."""
    return mapping.get(key) if hasattr(mapping, "get") else None
