"""victim=remote against a scripted endpoint on 127.0.0.1: raw rows out, answers into the ledger,
and one clear error for every fault, with nothing answered lost."""

import json
import socket

import numpy as np
import pytest

from msmult.data.tabular import prepare_tabular
from msmult.errors import MsmultError
from msmult.remote import RemoteVictim
from tests.http_fakes import Reply, fake_endpoint, small_table


@pytest.fixture(scope="module")
def splits():
    return prepare_tabular("small", small_table(), target="label", sensitive="group", seed=0)


@pytest.fixture
def connect(splits, tmp_path):
    def make(url: str, **config) -> RemoteVictim:
        victim = RemoteVictim(n_classes=2, url=url, **{"retries": 0, "timeout_s": 5, **config})
        victim.connect(splits, str(tmp_path / "cache"))
        return victim

    return make


def outputs(n: int, values) -> bytes:
    data = np.asarray(values, dtype=float).ravel().tolist()
    shape = [n, len(data) // n]
    return json.dumps(
        {"outputs": [{"name": "predict_proba", "shape": shape, "data": data}]}
    ).encode()


def test_pool_rows_reach_the_endpoint_as_raw_columns_with_their_types(splits, connect):
    with fake_endpoint() as endpoint:
        connect(endpoint.url).predict_proba(splits.x_pool[:7])
    body, _ = endpoint.seen[0]
    inputs = {i["name"]: i for i in body["inputs"]}
    assert list(inputs) == ["x1", "x2", "x3", "kind", "count"]  # features; no group, no label
    assert [inputs[c]["datatype"] for c in inputs] == ["FP64", "FP64", "FP64", "BYTES", "INT64"]
    for column, tensor in inputs.items():
        assert tensor["shape"] == [7, 1]
        assert tensor["data"] == splits.raw.pool[column][:7].tolist()


def test_answered_rows_are_replayed_from_the_ledger_and_never_sent_twice(splits, connect):
    with fake_endpoint() as endpoint:
        first = connect(endpoint.url, batch_rows=16).predict_proba(splits.x_test)
        sent = endpoint.rows_received()
        again = connect(endpoint.url)
        second = again.predict_proba(np.concatenate([splits.x_test, splits.x_pool[:5]]))
    assert sent == len(splits.x_test)
    assert endpoint.rows_received() == sent + 5  # only the new rows went out
    np.testing.assert_array_equal(second[: len(first)], first)
    assert again.describe(queries_used=0)["rows_replayed"] == len(splits.x_test)


def test_synthesised_rows_are_sent_decoded_through_the_preprocessing(splits, connect):
    x = splits.x_pool[:4].copy()
    x[:, 0] += 0.5  # a standardised step, as jacobian takes: no pool row has this encoding
    with fake_endpoint() as endpoint:
        victim = connect(endpoint.url)
        victim.predict_proba(x)
    sent = {i["name"]: i["data"] for i in endpoint.seen[0][0]["inputs"]}
    scaler = splits.raw.encoder.named_transformers_["numeric"][-1]
    expected = splits.raw.pool["x1"][:4].to_numpy() + 0.5 * scaler.scale_[0]
    np.testing.assert_allclose(sent["x1"], expected, rtol=1e-5)
    assert sent["kind"] == splits.raw.pool["kind"][:4].tolist()
    assert victim.describe(0)["synthesised_rows"] == 4


def test_answers_are_reordered_to_the_datasets_classes(splits, connect):
    with fake_endpoint() as endpoint:
        plain = connect(endpoint.url, ledger=None).predict_proba(splits.x_test[:3])
    with fake_endpoint() as endpoint:
        swapped = connect(endpoint.url, classes=["yes", "no"]).predict_proba(splits.x_test[:3])
    np.testing.assert_array_equal(swapped, plain[:, ::-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("reply", "config", "message"),
    [
        (
            Reply(500, b"model crashed"),
            {},
            "answered HTTP 500 (model crashed). The endpoint failed",
        ),
        (Reply(delay_s=1.0), {"timeout_s": 0.2}, "did not answer within victim.timeout_s=0.2 s"),
        (Reply(401, b"{}"), {}, "HTTP 401 ({}). The endpoint wants credentials"),
        (Reply(404, b"no such model"), {}, "No such model or route: check victim.model"),
        (Reply(body=b"{not json"), {}, "answered 200 with a body that is not JSON"),
        (Reply(body=outputs(3, np.full((3, 3), 1 / 3))), {}, "an array of shape (3, 3) for 3 rows"),
        (
            Reply(
                body=b'{"outputs": [{"name": "p", "shape": [3, 2], "data": [0.5, NaN, 0.5, 0.5, 0.5, 0.5]}]}'
            ),
            {},
            "NaN or infinite values in 1 rows",
        ),
        (Reply(body=outputs(3, [[1.5, -0.5]] * 3)), {}, "negative values in 3 rows"),
        (Reply(body=outputs(3, [[0.5, 0.3]] * 3)), {}, "sums to 0.8, off by 0.2"),
        (Reply(body=b'{"predictions": []}'), {}, "answered without an `outputs` list"),
        (
            Reply(body=outputs(3, [[0.5, 0.5]] * 3)),
            {"output": "scores"},
            "none named victim.output='scores'",
        ),
    ],
)
def test_each_fault_is_one_clear_error(splits, connect, reply, config, message):
    with fake_endpoint(reply) as endpoint, pytest.raises(MsmultError) as refused:
        connect(endpoint.url, **config).predict_proba(splits.x_test[:3])
    assert message in str(refused.value)
    assert endpoint.url in str(refused.value)


def test_a_url_that_refuses_connections_is_named_with_what_to_do(splits, connect):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MsmultError, match="could not be reached .* Check victim.url"):
        connect(url, retries=1).predict_proba(splits.x_test[:3])


def test_rows_missing_a_sum_of_one_within_the_tolerance_are_renormalised(splits, connect):
    with fake_endpoint(Reply(body=outputs(2, [[0.6, 0.4005], [0.25, 0.75]]))) as endpoint:
        proba = connect(endpoint.url).predict_proba(splits.x_test[:2])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(proba[0], np.array([0.6, 0.4005]) / 1.0005)
    assert proba[1].tolist() == [0.25, 0.75]


def test_throttled_requests_are_retried_after_retry_after(splits, connect):
    throttled = Reply(429, b"slow down", {"Retry-After": "0"})
    with fake_endpoint(throttled, throttled) as endpoint:
        victim = connect(endpoint.url, retries=3)
        victim.predict_proba(splits.x_test[:3])
    assert victim.describe(0)["throttled"] == 2 and victim.describe(0)["retries"] == 2


def test_a_server_still_throttling_after_every_retry_stops_the_run(splits, connect):
    throttled = Reply(429, b"slow down", {"Retry-After": "0"})
    with fake_endpoint(*[throttled] * 5) as endpoint, pytest.raises(MsmultError) as refused:
        connect(endpoint.url, retries=2).predict_proba(splits.x_test[:3])
    assert "still answered 429 after 2 retries" in str(refused.value)
    assert "lower victim.rate or raise victim.retries" in str(refused.value)


def test_a_fault_keeps_every_row_answered_before_it_and_the_rerun_sends_only_the_rest(
    splits, connect
):
    with fake_endpoint(Reply(), Reply(500, b"down")) as endpoint:
        with pytest.raises(MsmultError, match="every row answered so far is kept in the ledger"):
            connect(endpoint.url, batch_rows=10).predict_proba(splits.x_test[:30])
        rerun = connect(endpoint.url, batch_rows=10)
        rerun.predict_proba(splits.x_test[:30])
    assert rerun.describe(0)["rows_sent"] == 20
    assert rerun.describe(0)["rows_replayed"] == 10


def test_a_ledger_written_for_another_endpoint_is_refused_not_mixed(splits, tmp_path):
    ledger = str(tmp_path / "ledger.jsonl")
    with fake_endpoint() as first:
        RemoteVictim(2, url=first.url, ledger=ledger).connect(splits, None)
    with fake_endpoint() as other, pytest.raises(MsmultError) as refused:
        RemoteVictim(2, url=other.url, ledger=ledger).connect(splits, None)
    assert f"Ledger {ledger} was written for" in str(refused.value)
    assert "does not mix answers of different endpoints or datasets" in str(refused.value)


def test_a_ledger_cut_mid_record_keeps_its_complete_records(splits, connect, tmp_path, caplog):
    ledger = tmp_path / "ledger.jsonl"
    with fake_endpoint() as endpoint:
        connect(endpoint.url, ledger=str(ledger)).predict_proba(splits.x_test[:5])
        with ledger.open("ab") as handle:
            handle.write(b'{"row":[0.1,0.2,')  # a run killed mid-write
        victim = connect(endpoint.url, ledger=str(ledger))
        victim.predict_proba(splits.x_test[:6])
    assert "cut short" in caplog.text
    assert endpoint.rows_received() == 6  # 5, then only the sixth
    lines = ledger.read_text().splitlines()
    assert len(lines) == 1 + 6 and all(json.loads(line) for line in lines)


def test_an_unset_header_variable_is_named(monkeypatch):
    monkeypatch.delenv("MSMULT_TEST_UNSET_TOKEN", raising=False)
    with pytest.raises(MsmultError, match="'MSMULT_TEST_UNSET_TOKEN' for header 'Authorization'"):
        RemoteVictim(
            2, url="http://127.0.0.1:1", headers_env={"Authorization": "MSMULT_TEST_UNSET_TOKEN"}
        )


def test_header_values_are_sent_but_never_described_or_kept(splits, connect, monkeypatch):
    monkeypatch.setenv("MSMULT_TEST_TOKEN", "Bearer s3cr3t-value")
    with fake_endpoint() as endpoint:
        victim = connect(endpoint.url, headers_env={"Authorization": "MSMULT_TEST_TOKEN"})
        victim.predict_proba(splits.x_test[:3])
    assert endpoint.seen[0][1]["Authorization"] == "Bearer s3cr3t-value"
    assert "s3cr3t" not in json.dumps(victim.describe(0))
    assert "s3cr3t" not in victim.ledger.path.read_text()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"url": "ftp://host"}, "victim.url='ftp://host' is not allowed"),
        ({"url": "http://user:pw@host"}, "victim.url holds credentials"),
        ({"url": "http://h", "protocol": "grpc"}, "victim.protocol='grpc' is not allowed"),
        ({"url": "http://h", "batch_rows": 0}, "victim.batch_rows=0 is not allowed"),
        ({"url": "http://h", "rate": -1}, "victim.rate=-1 is not allowed"),
    ],
)
def test_bad_config_values_are_refused_before_any_request(config, message):
    with pytest.raises(MsmultError, match=message.replace("(", r"\(")):
        RemoteVictim(2, **config)


def test_a_dataset_without_raw_rows_is_refused(splits):
    from dataclasses import replace

    with pytest.raises(MsmultError, match="holds images or token ids"):
        RemoteVictim(2, url="http://h").connect(replace(splits, raw=None), "cache")
