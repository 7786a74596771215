"""The container checks every runtime must pass (runc_test.py, crun_test.py): on a
two-CPU machine with a `dataplane` exclusive pool (lists 0 and 1) and an `infra` shared
pool (0-1)."""

from kcm_e2e import read_owners, read_tasks

DATAPLANE = {"kcm.intel.com/pool": "dataplane"}


class CoreChecks:
    """A mixin of test methods: RuncTest(CoreChecks, kcm_e2e.RuntimeTestCase) etc."""

    def test_two_containers_get_different_single_cpus(self):
        a = self.started("a", DATAPLANE)
        b = self.started("b", DATAPLANE)
        aff_a, cg_a = a.seen()
        aff_b, cg_b = b.seen()
        self.assertIn(aff_a, ("0", "1"))
        self.assertIn(aff_b, ("0", "1"))
        self.assertNotEqual(aff_a, aff_b)
        self.assertEqual(cg_a, aff_a)
        self.assertEqual(cg_b, aff_b)
        tasks = read_tasks(self.conf)
        self.assertEqual(len(tasks[("dataplane", aff_a)]), 1)
        self.assertEqual(len(tasks[("dataplane", aff_b)]), 1)
        self.assertEqual(sorted(r["owner"] for r in read_owners(self.conf).values()),
                         sorted([a.id, b.id]))

    def test_third_container_is_refused_while_both_run(self):
        self.started("a", DATAPLANE)
        self.started("b", DATAPLANE)
        before = (read_tasks(self.conf), read_owners(self.conf))
        c = self.new_container("c", DATAPLANE)
        rc, err = c.start()
        self.assertNotEqual(rc, 0)
        self.check_refusal_message(err)
        self.assertEqual((read_tasks(self.conf), read_owners(self.conf)), before)

    def check_refusal_message(self, err):
        """Runtimes that show a hook's stderr check it here."""

    def test_lists_are_free_after_exit(self):
        a = self.started("a", DATAPLANE)
        b = self.started("b", {"kcm.intel.com/pool": "infra"})
        a.stop()
        b.stop()
        self.assert_all_free()

    def test_list_is_reused_after_release(self):
        a = self.started("a", DATAPLANE)
        b = self.started("b", DATAPLANE)
        a.stop()
        c = self.started("c", DATAPLANE)
        self.assertEqual(c.seen()[0], a.seen()[0])
        b.stop()
        c.stop()
        self.assert_all_free()

    def test_sandbox_is_untouched(self):
        for key, value in (("io.kubernetes.cri.container-type", "sandbox"),
                           ("io.kubernetes.cri-o.ContainerType", "sandbox"),
                           ("io.kubernetes.docker.type", "podsandbox")):
            with self.subTest(key=key):
                s = self.started("sandbox-" + key.split(".")[-1].replace("/", "-").lower(),
                                 dict(DATAPLANE, **{key: value}))
                self.assertEqual(s.seen(), ("0-1", "0-1"))
                self.assert_all_free()
                s.stop()

    def test_unannotated_container_is_untouched(self):
        s = self.started("plain", {"io.kubernetes.cri.container-name": "app"})
        self.assertEqual(s.seen(), ("0-1", "0-1"))
        self.assertFalse(any(read_tasks(self.conf).values()))

    def test_container_override_wins_over_pod_pool(self):
        annotations = {"io.kubernetes.cri.container-name": "app",
                       "kcm.intel.com/pool": "infra",
                       "kcm.intel.com/pool.app": "dataplane"}
        c = self.started("override", annotations)
        affinity, cpuset = c.seen()
        self.assertIn(affinity, ("0", "1"))
        self.assertEqual(cpuset, affinity)
        self.assertEqual(len(read_tasks(self.conf)[("dataplane", affinity)]), 1)
        self.assertEqual(read_tasks(self.conf)[("infra", "0-1")], [])

    def test_shared_pool_gives_its_list(self):
        a = self.started("a", {"kcm.intel.com/pool": "infra"})
        b = self.started("b", {"kcm.intel.com/pool": "infra"})
        self.assertEqual(a.seen(), ("0-1", "0-1"))
        self.assertEqual(len(read_tasks(self.conf)[("infra", "0-1")]), 2)
        self.assertEqual(b.seen(), ("0-1", "0-1"))

    def test_cores_two_takes_both_lists(self):
        c = self.started("wide", dict(DATAPLANE, **{"kcm.intel.com/cores": "2"}))
        self.assertEqual(c.seen(), ("0-1", "0-1"))
        tasks = read_tasks(self.conf)
        self.assertEqual(len(tasks[("dataplane", "0")]), 1)
        self.assertEqual(tasks[("dataplane", "0")], tasks[("dataplane", "1")])
        c.stop()
        self.assert_all_free()

    def test_both_start_stages_pin_once(self):
        # createRuntime runs after prestart here; the second call re-applies the lists
        # the first one chose.
        c = self.started("twice", DATAPLANE,
                         stages=("prestart", "createRuntime", "poststop"))
        affinity, cpuset = c.seen()
        self.assertIn(affinity, ("0", "1"))
        self.assertEqual(cpuset, affinity)
        tasks = read_tasks(self.conf)
        self.assertEqual(len(tasks[("dataplane", affinity)]), 1)
        self.assertEqual(len(read_owners(self.conf)), 1)
        c.stop()
        self.assert_all_free()

    def test_unknown_pool_is_refused(self):
        c = self.new_container("unknown", {"kcm.intel.com/pool": "nosuchpool"})
        rc, err = c.start()
        self.assertNotEqual(rc, 0)
        self.assert_all_free()

