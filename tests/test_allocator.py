"""The allocator policy: a block keeps freed memory for reuse, nests, and restores the defaults after."""

import pytest

from noether import allocator
from noether.allocator import reuse_freed_memory


def test_blocks_nest_and_the_outermost_restores():
    assert not allocator.active()
    with reuse_freed_memory():
        assert allocator.active()
        with reuse_freed_memory():
            assert allocator.active()
        assert allocator.active()  # the inner exit leaves the outer block's setting
    assert not allocator.active()


def test_an_exception_still_closes_the_block_and_it_decorates_functions():
    with pytest.raises(RuntimeError):
        with reuse_freed_memory():
            raise RuntimeError("boom")
    assert not allocator.active()

    @reuse_freed_memory()
    def work():
        return allocator.active()

    assert work() is True and work() is True
    assert not allocator.active()
