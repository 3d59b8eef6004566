"""contract.event.Coded, the coded text column of EventColumns, answers as an object array of the same
values would: the vectorized facts compare, filter and take rows through it."""

import numpy as np
import pytest

from compliance.contract.event import Coded

VALUES = ["rule_144", None, "registration_statement", "rule_144", None, "other_exemption"]
OBJECTS = np.array(VALUES, dtype=object)


@pytest.fixture
def column() -> Coded:
    return Coded.of(VALUES)


@pytest.mark.parametrize("constant", ["rule_144", "registration_statement", "not_a_route", None])
def test_equality_with_a_constant_or_none(column, constant):
    assert (column == constant).tolist() == (constant == OBJECTS).tolist()
    assert (column != constant).tolist() == (constant != OBJECTS).tolist()


def test_values_rows_and_array(column):
    assert column.tolist() == VALUES
    assert np.asarray(column).tolist() == VALUES
    assert column[1] is None and column[2] == "registration_statement"
    assert column[np.array([5, 0])].tolist() == ["other_exemption", "rule_144"]
    assert column[OBJECTS == "rule_144"].tolist() == ["rule_144", "rule_144"]
    assert len(column) == 6 and column.shape == (6,)


def test_isin_filled_and_present_values(column):
    assert column.isin(("rule_144", "other_exemption")).tolist() == [True, False, False, True, False, True]
    assert column.isin((None,)).tolist() == [v is None for v in VALUES]
    assert column.filled("none").tolist() == [v or "none" for v in VALUES]
    assert column.filled("rule_144").tolist() == [v or "rule_144" for v in VALUES]
    assert column.present_values() == ["rule_144", "registration_statement", "other_exemption"]


def test_concatenate_recodes_columns_with_different_distinct_values():
    joined = Coded.concatenate([Coded.of(["a", None]), Coded.of(["b", "a"])])
    assert joined.tolist() == ["a", None, "b", "a"]
    assert sorted(joined.distinct) == ["a", "b"]


@pytest.mark.parametrize(
    "values",
    [
        [],
        [None],
        ["shares"],
        VALUES,
        [None, "a", None, "b", "a", "b"],
        ["a", float("nan"), "b"],
        [1, "1", None],
        [f"v{i % 7}" for i in range(40)],
        [f"v{i}" if i % 3 else None for i in range(33)],
    ],
)
def test_of_codes_as_pandas_factorize_does(values):
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    column = Coded.of(values)
    assert column.codes.dtype == codes.dtype and column.codes.tolist() == codes.tolist()
    assert column.distinct == list(uniques)
