"""The faust app's recovery configuration: static membership per process, timeouts, the
RocksDB history store in the process's own state folder."""

import socket

import pytest

from processor.settings import SettingsError, load_settings
from processor.stream.delivery import faust_app


def test_each_worker_process_has_its_own_instance_id_and_state_folder(tmp_path):
    settings = load_settings(worker_index=3, data_dir=tmp_path, table_store="rocksdb")
    conf = faust_app(settings).conf
    expected = f"{socket.gethostname()}-3"
    assert conf.consumer_group_instance_id == expected
    assert str(conf.store) == "rocksdb:"
    assert conf.datadir == (tmp_path / expected).resolve()
    assert (conf.broker_session_timeout, conf.broker_heartbeat_interval) == (30.0, 3.0)


def test_an_explicit_instance_id_or_none(tmp_path):
    chosen = faust_app(load_settings(group_instance_id="w-a", data_dir=tmp_path)).conf
    assert chosen.consumer_group_instance_id == "w-a"
    off = faust_app(
        load_settings(group_instance_id="none", table_store="memory", data_dir=tmp_path)
    ).conf
    assert off.consumer_group_instance_id is None and str(off.store) == "memory:"


def test_heartbeat_must_fit_three_times_in_the_session():
    with pytest.raises(SettingsError, match="CLAIMS_BROKER_HEARTBEAT_INTERVAL must be at most"):
        load_settings(broker_session_timeout=6, broker_heartbeat_interval=3)


def test_producer_compression_and_batch_size_reach_the_producer(tmp_path):
    default = faust_app(load_settings(data_dir=tmp_path)).conf
    assert (default.producer_compression_type, default.producer_max_batch_size) == (None, 262_144)
    chosen = faust_app(
        load_settings(data_dir=tmp_path, producer_compression="zstd", producer_batch_bytes=65536)
    ).conf
    assert (chosen.producer_compression_type, chosen.producer_max_batch_size) == ("zstd", 65536)
    lz4 = faust_app(load_settings(data_dir=tmp_path, producer_compression="lz4")).conf
    assert lz4.producer_compression_type == "lz4"
    with pytest.raises(SettingsError, match="CLAIMS_PRODUCER_BATCH_BYTES"):
        load_settings(producer_batch_bytes=2_000_000)


def test_standby_replicas_of_the_history_reach_faust(tmp_path):
    assert faust_app(load_settings(data_dir=tmp_path)).conf.table_standby_replicas == 0
    chosen = faust_app(load_settings(data_dir=tmp_path, table_standby_replicas=1)).conf
    assert chosen.table_standby_replicas == 1
    with pytest.raises(SettingsError, match="CLAIMS_TABLE_STANDBY_REPLICAS"):
        load_settings(table_standby_replicas=-1)
