"""Relevance: does a child goal's wording connect to its parent's at all?

An explainable similarity: TF-IDF over the words of the cycle's goals (scikit-learn), cosine between the
child and its parent (the parent's title, description and key results). A child that shares no meaningful
word with its parent gets a warning that names the parent and the words it could connect through.
"""

from __future__ import annotations

import re
from functools import cache

from goals.validation import Problem

_WORD = re.compile(r"[a-z][a-z0-9]+")


# scikit-learn is imported when a goal's wording is first checked, not when the application starts: it
# takes seconds to import and about 100 MB to hold, which every process (web, workers, commands) would pay
# whether or not it ever checks a goal.
@cache
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _words(text: str) -> list[str]:
    # Lower-cased words without stop words; a plural "s" is dropped so "customers" meets "customer".
    stop_words = _stop_words()
    words = []
    for word in _WORD.findall(text.lower()):
        if word in stop_words or len(word) < 3:
            continue
        words.append(word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word)
    return words


def relevance_problems(
    *, child_text: str, parent_title: str, parent_text: str, corpus: list[str]
) -> list[Problem]:
    """A warning when the child's wording shares nothing with its parent's, naming the missing connection."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    documents = [child_text, parent_text, *corpus]
    if not _words(child_text) or not _words(parent_text):
        return []
    vectorizer = TfidfVectorizer(analyzer=_words)
    matrix = vectorizer.fit_transform(documents)
    if cosine_similarity(matrix[0], matrix[1])[0, 0] > 0:
        return []
    vocabulary = vectorizer.get_feature_names_out()
    parent_row = matrix[1].toarray()[0]
    key_terms = [vocabulary[index] for index in parent_row.argsort()[::-1] if parent_row[index] > 0][:4]
    return [
        Problem(
            "title",
            "no_shared_wording",
            f"This goal shares no wording with its parent '{parent_title}'. Its parent is about "
            f"{', '.join(key_terms)}; say how this goal serves it.",
            is_warning=True,
        )
    ]
