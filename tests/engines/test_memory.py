import sys

import pytest

from cleanpipe.engines.memory import pin_mmap_threshold


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_mmap_threshold_is_pinned_on_glibc_and_pinning_again_is_harmless():
    import platform
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    assert pin_mmap_threshold() is True
    assert pin_mmap_threshold() is True
