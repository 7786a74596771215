#!/usr/bin/env python3
"""kcm-hook under runc: bundles from `runc spec` with prestart/poststop hooks."""

import kcm_e2e
from hook_checks import CoreChecks
from kcm_e2e import DATAPLANE_LISTS


class RuncTest(CoreChecks, kcm_e2e.RuntimeTestCase):
    RUNTIME = "runc"

    def check_refusal_message(self, err):
        # runc prints a failing hook's stderr in its own (logrus-quoted) error.
        err = err.replace('\\"', '"')
        self.assertIn('kcm-hook: prestart container "kcm-e2e-', err)
        self.assertIn('annotation "kcm.intel.com/pool"="dataplane": '
                      'pool "dataplane" has 0 free CPU lists (%d in use)'
                      % len(DATAPLANE_LISTS), err)


if __name__ == "__main__":
    kcm_e2e.main()
