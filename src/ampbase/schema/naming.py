"""Every generated GraphQL name, in one place.

The rules are those of AWS's Amplify transformer (``specs/generated-schema.md`` §2):
operation names, plurals (npm ``pluralize`` v8 semantics applied to the whole
PascalCase type name), input/filter/connection type names, composite key names,
default index names and their query fields, and Gen 1 implicit relationship keys.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

__all__ = [
    "SUBSCRIPTION_NAME_LIMIT",
    "camel_join",
    "composite_key_argument",
    "composite_key_condition_input",
    "composite_key_input",
    "condition_input",
    "connection_type",
    "create_input",
    "create_mutation",
    "default_index_name",
    "default_relation_index_name",
    "delete_input",
    "delete_mutation",
    "enum_filter_input",
    "enum_list_filter_input",
    "filter_input",
    "gen2_index_query_field",
    "get_query",
    "implicit_has_many_key",
    "implicit_has_one_key",
    "join_model_field",
    "join_model_index_name",
    "join_model_query_field",
    "key_condition_input",
    "list_query",
    "lower_first",
    "non_model_input",
    "on_create_subscription",
    "on_delete_subscription",
    "on_update_subscription",
    "pluralize",
    "subscription_filter_input",
    "subscription_name",
    "update_input",
    "update_mutation",
    "upper_first",
]

SUBSCRIPTION_NAME_LIMIT = 50


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def camel_join(words: Iterable[str]) -> str:
    """``["list", "Todos"]`` → ``listTodos``: the first word lower-first, the rest upper-first."""
    parts = [w for w in words if w]
    if not parts:
        return ""
    return lower_first(parts[0]) + "".join(upper_first(w) for w in parts[1:])


# --------------------------------------------------------------------------- pluralize
# npm ``pluralize`` v8: whole-word irregulars and uncountables first, then the
# regular-expression rules, the most recently added rule winning.

_IRREGULAR: tuple[tuple[str, str], ...] = (
    ("i", "we"),
    ("me", "us"),
    ("he", "they"),
    ("she", "they"),
    ("them", "them"),
    ("myself", "ourselves"),
    ("yourself", "yourselves"),
    ("itself", "themselves"),
    ("herself", "themselves"),
    ("himself", "themselves"),
    ("themself", "themselves"),
    ("is", "are"),
    ("was", "were"),
    ("has", "have"),
    ("this", "these"),
    ("that", "those"),
    ("echo", "echoes"),
    ("dingo", "dingoes"),
    ("volcano", "volcanoes"),
    ("tornado", "tornadoes"),
    ("torpedo", "torpedoes"),
    ("genus", "genera"),
    ("viscus", "viscera"),
    ("stigma", "stigmata"),
    ("stoma", "stomata"),
    ("dogma", "dogmata"),
    ("lemma", "lemmata"),
    ("schema", "schemata"),
    ("anathema", "anathemata"),
    ("ox", "oxen"),
    ("axe", "axes"),
    ("die", "dice"),
    ("yes", "yeses"),
    ("foot", "feet"),
    ("eave", "eaves"),
    ("goose", "geese"),
    ("tooth", "teeth"),
    ("quiz", "quizzes"),
    ("human", "humans"),
    ("proof", "proofs"),
    ("carve", "carves"),
    ("valve", "valves"),
    ("looey", "looies"),
    ("thief", "thieves"),
    ("groove", "grooves"),
    ("pickaxe", "pickaxes"),
    ("passerby", "passersby"),
)
_IRREGULAR_SINGLES = dict(_IRREGULAR)
_IRREGULAR_PLURALS = {plural: single for single, plural in _IRREGULAR}

# fmt: off
_UNCOUNTABLE_WORDS = frozenset((
    "adulthood", "advice", "agenda", "aid", "aircraft", "alcohol", "ammo", "analytics", "anime",
    "athletics", "audio", "bison", "blood", "bream", "buffalo", "butter", "carp", "cash", "chassis",
    "chess", "clothing", "cod", "commerce", "cooperation", "corps", "debris", "diabetes", "digestion",
    "elk", "energy", "equipment", "excretion", "expertise", "firmware", "flounder", "fun", "gallows",
    "garbage", "graffiti", "hardware", "headquarters", "health", "herpes", "highjinks", "homework",
    "housework", "information", "jeans", "justice", "kudos", "labour", "literature", "machinery",
    "mackerel", "mail", "media", "mews", "moose", "music", "mud", "manga", "news", "only", "personnel",
    "pike", "plankton", "pliers", "police", "pollution", "premises", "rain", "research", "rice",
    "salmon", "scissors", "series", "sewage", "shambles", "shrimp", "software", "species", "staff",
    "swine", "tennis", "traffic", "transportation", "trout", "tuna", "wealth", "welfare", "whiting",
    "wildebeest", "wildlife", "you",
))
# fmt: on

# (pattern, replacement) in the order the library adds them; later rules win.
_PLURAL_RULES_SOURCE: tuple[tuple[str, str], ...] = (
    (r"s?$", "s"),
    (r"[^\u0000-\u007F]$", "$0"),
    (r"([^aeiou]ese)$", "$1"),
    (r"(ax|test)is$", "$1es"),
    (r"(alias|[^aou]us|t[lm]as|gas|ris)$", "$1es"),
    (r"(e[mn]u)s?$", "$1s"),
    (r"([^l]ias|[aeiou]las|[ejzr]as|[iu]am)$", "$1"),
    (
        r"(alumn|syllab|vir|radi|nucle|fung|cact|stimul|termin|bacill|foc|uter|loc|strat)(?:us|i)$",
        "$1i",
    ),
    (r"(alumn|alg|vertebr)(?:a|ae)$", "$1ae"),
    (r"(seraph|cherub)(?:im)?$", "$1im"),
    (r"(her|at|gr)o$", "$1oes"),
    (
        r"(agend|addend|millenni|dat|extrem|bacteri|desiderat|strat|candelabr|errat|ov|symposi"
        r"|curricul|automat|quor)(?:a|um)$",
        "$1a",
    ),
    (
        r"(apheli|hyperbat|periheli|asyndet|noumen|phenomen|criteri|organ|prolegomen|hedr|automat)"
        r"(?:a|on)$",
        "$1a",
    ),
    (r"sis$", "ses"),
    (r"(?:(kni|wi|li)fe|(ar|l|ea|eo|oa|hoo)f)$", "$1$2ves"),
    (r"([^aeiouy]|qu)y$", "$1ies"),
    (r"([^ch][ieo][ln])ey$", "$1ies"),
    (r"(x|ch|ss|sh|zz)$", "$1es"),
    (r"(matr|cod|mur|sil|vert|ind|append)(?:ix|ex)$", "$1ices"),
    (r"\b((?:tit)?m|l)(?:ice|ouse)$", "$1ice"),
    (r"(pe)(?:rson|ople)$", "$1ople"),
    (r"(child)(?:ren)?$", "$1ren"),
    (r"eaux$", "$0"),
    (r"m[ae]n$", "men"),
    (r"^thou$", "you"),
    # uncountable patterns are added last, so they are tried first
    (r"pok[eé]mon$", "$0"),
    (r"[^aeiou]ese$", "$0"),
    (r"deer$", "$0"),
    (r"fish$", "$0"),
    (r"measles$", "$0"),
    (r"o[iu]s$", "$0"),
    (r"pox$", "$0"),
    (r"sheep$", "$0"),
)
_PLURAL_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement)
    for pattern, replacement in reversed(_PLURAL_RULES_SOURCE)
)
_GROUP_REF = re.compile(r"\$(\d{1,2})")


def _restore_case(word: str, token: str) -> str:
    if word == token:
        return token
    if word == word.lower():
        return token.lower()
    if word == word.upper():
        return token.upper()
    if word[:1] == word[:1].upper():
        return token[:1].upper() + token[1:].lower()
    return token.lower()


def _apply_rule(word: str, pattern: re.Pattern[str], replacement: str) -> str:
    match = pattern.search(word)
    assert match is not None

    def group(m: re.Match[str]) -> str:
        index = int(m.group(1))
        if index > (pattern.groups or 0):
            return ""
        return match.group(index) or ""

    result = _GROUP_REF.sub(group, replacement)
    matched = match.group(0)
    if matched == "":
        # the library restores the case from the character before the match
        start = match.start()
        prev = word[start - 1] if start > 0 else ""
        result = _restore_case(prev, result)
    else:
        result = _restore_case(matched, result)
    return word[: match.start()] + result + word[match.end() :]


def pluralize(word: str) -> str:
    """The plural npm ``pluralize`` v8 gives for ``word`` (``Person`` → ``People``)."""
    if not word.strip():
        return ""
    token = word.lower()
    if token in _IRREGULAR_PLURALS:
        return _restore_case(word, token)
    if token in _IRREGULAR_SINGLES:
        return _restore_case(word, _IRREGULAR_SINGLES[token])
    if token in _UNCOUNTABLE_WORDS:
        return word
    for pattern, replacement in _PLURAL_RULES:
        if pattern.search(word):
            return _apply_rule(word, pattern, replacement)
    return word


# --------------------------------------------------------------------------- operations


def get_query(model: str) -> str:
    return camel_join(["get", model])


def list_query(model: str, plural: str | None = None) -> str:
    return camel_join(["list", plural if plural is not None else pluralize(model)])


def create_mutation(model: str) -> str:
    return camel_join(["create", model])


def update_mutation(model: str) -> str:
    return camel_join(["update", model])


def delete_mutation(model: str) -> str:
    return camel_join(["delete", model])


def subscription_name(name: str) -> str:
    """A generated subscription name; over 50 characters it is cut to 45 plus 5 md5 hex digits."""
    if len(name) <= SUBSCRIPTION_NAME_LIMIT:
        return name
    digest = hashlib.md5(name.encode("utf-8"), usedforsecurity=False).hexdigest()
    return name[:45] + digest[:5]


def on_create_subscription(model: str) -> str:
    return subscription_name(camel_join(["onCreate", model]))


def on_update_subscription(model: str) -> str:
    return subscription_name(camel_join(["onUpdate", model]))


def on_delete_subscription(model: str) -> str:
    return subscription_name(camel_join(["onDelete", model]))


# --------------------------------------------------------------------------- type names


def connection_type(model: str) -> str:
    return f"Model{model}Connection"


def filter_input(model: str) -> str:
    return f"Model{model}FilterInput"


def condition_input(model: str) -> str:
    return f"Model{model}ConditionInput"


def subscription_filter_input(model: str) -> str:
    return f"ModelSubscription{model}FilterInput"


def create_input(model: str) -> str:
    return f"Create{model}Input"


def update_input(model: str) -> str:
    return f"Update{model}Input"


def delete_input(model: str) -> str:
    return f"Delete{model}Input"


def enum_filter_input(enum: str) -> str:
    return f"Model{enum}Input"


def enum_list_filter_input(enum: str) -> str:
    return f"Model{enum}ListInput"


def non_model_input(type_name: str) -> str:
    """The input twin of a non-model object type (``Location`` → ``LocationInput``)."""
    return f"{type_name}Input"


def key_condition_input(scalar: str) -> str:
    """``ModelStringKeyConditionInput`` for an already mapped key scalar (String/ID/Int/Float)."""
    return f"Model{scalar}KeyConditionInput"


def composite_key_argument(sort_keys: Sequence[str]) -> str:
    """The sort-key argument name: the field itself, or the camelCase join of several."""
    return camel_join(sort_keys)


def _key_name(index_name: str | None) -> str:
    return "Primary" if index_name is None else upper_first(index_name)


def composite_key_condition_input(model: str, index_name: str | None) -> str:
    """``Model<T><Key>CompositeKeyConditionInput``; ``index_name=None`` is the primary key."""
    return f"Model{model}{_key_name(index_name)}CompositeKeyConditionInput"


def composite_key_input(model: str, index_name: str | None) -> str:
    return f"Model{model}{_key_name(index_name)}CompositeKeyInput"


# --------------------------------------------------------------------------- indexes and keys


def default_index_name(model: str, key_fields: Sequence[str]) -> str:
    """``customersByEmail``: the automatic ``@index`` name, also its automatic query field."""
    return lower_first(pluralize(model)) + "By" + "And".join(upper_first(f) for f in key_fields)


def gen2_index_query_field(model: str, key_fields: Sequence[str]) -> str:
    """data-schema's ``list<T>By<Hash>And<Sk>`` (T not pluralised)."""
    return "list" + model + "By" + "And".join(upper_first(f) for f in key_fields)


def default_relation_index_name(parent: str, field: str) -> str:
    """``gsi-Post.comments``: the GSI a hasMany/hasOne creates on the related model."""
    return f"gsi-{parent}.{field}"


def implicit_has_many_key(parent: str, field: str, parent_key_field: str) -> str:
    """``postCommentsId``: lowerFirst(parent) + upperFirst(field) + upperFirst(parent key field)."""
    return lower_first(parent) + upper_first(field) + upper_first(parent_key_field)


def implicit_has_one_key(model: str, field: str, related_key_field: str) -> str:
    """``projectTeamId`` (hasOne / lone belongsTo): same shape, on the declaring model."""
    return lower_first(model) + upper_first(field) + upper_first(related_key_field)


def join_model_field(model: str) -> str:
    """``post`` / ``postId`` base name of a @manyToMany join model's side."""
    return lower_first(model)


def join_model_index_name(model: str) -> str:
    return f"by{model}"


def join_model_query_field(relation_name: str, model: str) -> str:
    """``postTagsByPostId``."""
    return lower_first(relation_name) + "By" + upper_first(model) + "Id"
