"""The partitioner's murmur2 against aiokafka's (the Java client's algorithm): the same
hash for any bytes, so a key lands on the partition aiokafka's `send` would choose."""

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from processor.stream.murmur import key_partition, murmur2


@settings(max_examples=2000)
@given(st.binary(max_size=300))
def test_murmur2_is_aiokafkas(data):
    assert murmur2(data) == aiokafka_murmur2(data)


@given(st.binary(min_size=1, max_size=80), st.integers(1, 64))
def test_key_partition_is_the_default_partitioners(key, partitions):
    everything = list(range(partitions))
    assert key_partition(key, partitions) == DefaultPartitioner()(key, everything, everything)


def test_known_values_of_the_java_client():
    # org.apache.kafka.common.utils.UtilsTest#testMurmur2
    cases = {
        b"21": -973932308,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        b"abc": 479470107,
    }
    for data, signed in cases.items():
        assert murmur2(data) == signed & 0xFFFFFFFF
