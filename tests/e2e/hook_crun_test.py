#!/usr/bin/env python3
"""kcm-hook under crun. crun refuses this hybrid-cgroup machine unless the v2 tree at
/sys/fs/cgroup/unified is gone, so every crun command runs in a private mount namespace
with it unmounted (kcm_e2e.Runtime)."""

import kcm_e2e
from hook_checks import CoreChecks


class CrunTest(CoreChecks, kcm_e2e.RuntimeTestCase):
    RUNTIME = "crun"


if __name__ == "__main__":
    kcm_e2e.main()
