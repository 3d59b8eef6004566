"""``built_once``: results shared per identity of their inputs, a bounded number per builder."""

from __future__ import annotations

from compliance.kept import built_once


class Input:
    """Unhashable by value, like an agreement or a rulebook."""

    __hash__ = None


def test_a_result_is_built_once_per_identity_of_its_inputs():
    built = []

    def build(thing):
        built.append(thing)
        return [thing]

    a, b = Input(), Input()
    assert built_once(build, a) is built_once(build, a)
    assert built_once(build, b) == [b]
    assert built == [a, b]


def test_at_most_keep_results_of_a_builder_are_kept_the_oldest_going_first():
    built = []

    def build(thing):
        built.append(thing)
        return thing

    a, b, c = Input(), Input(), Input()
    for thing in (a, b, c):
        built_once(build, thing, keep=2)
    built_once(build, c, keep=2)  # kept
    built_once(build, b, keep=2)  # kept
    built_once(build, a, keep=2)  # gone: built again
    assert built == [a, b, c, a]
