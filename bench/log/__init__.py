"""The verifiable log's costs, each against a baseline measured in the same run.

1. appends: sustained appends per second with integration on. Many concurrent
   appenders (asyncio tasks) call ``NodeRuntime.event_log.append`` with
   realistic inquiry events (a bank's loan-underwriting inquiry disclosing five
   records, citing the purpose's and each record type's legal basis) while a
   ``Sequencer`` integrates and checkpoints beside them, on SQLite with
   ``synchronous`` FULL and NORMAL and on PostgreSQL. Baseline: the same appends
   with the sequencer off. Two rates: appends/s while appending, and leaves/s
   end to end (until the last event is integrated and checkpointed, which is
   what can be sustained). Every appended event must end up a leaf under a
   signed checkpoint, or the run fails. Goal: >= 10k appends/s.
2. verify: whole-log verification (``ledger.audit.audit_log``) in leaves per
   second over a log of ``--leaves`` events with a signed checkpoint; the
   report must be ok. Baseline: SHA-256 leaf hashes of the same bodies with
   hashlib alone. Goal: >= 200k leaves/s.
3. proof: inclusion-proof generation (``LogStore.inclusion_proof``) at
   ``--proof-leaves`` leaves, median and p99 over random indexes; every proof
   equals the baseline's and a sample verifies against ``LogStore.root``.
   Baseline: ``ledger.tree.inclusion_proof`` over an in-memory dict of every
   node. The tree's nodes are computed with the sequencer's own ``Frontier``
   and bulk-inserted into ``log_nodes`` (proofs read nothing else), so a
   million leaves take seconds instead of the minutes integrating a million
   events would. Timing stops after ``--proof-seconds`` when proofs are slow.
   Goal: < 2 ms per proof.
4. inquiry: the full-path inquiry benchmark of ``bench.inquiry_path`` with the
   log on (``log.sequencer: true``) versus off, alternating which runs first,
   each run on a fresh copy of the same seeded database. Goal: the log costs
   the inquiry path no more than 10% (QPS ratio >= 0.90).

Each part prints its figures, the baseline's, their ratio and whether the
goal is met; a part that loses or corrupts work fails the run. The defaults
take about 5 minutes on a 2-core machine:

    python -m bench.log [--part appends,verify,proof,inquiry] [--appends 40000] [--appenders 256]
                        [--leaves 200000] [--proof-leaves 1000000] [--proofs 2000] [--proof-seconds 20]
                        [--records 10000] [--seconds 8] [--rounds 2] [--no-postgres | --postgres-url URL]
                        [--verify-postgres] [--proof-postgres]
5. index: what the verifiable index costs: ``LogStore.integrate`` of
   ``--index-leaves`` inquiry events about ``--index-subjects`` subjects with
   the index against the same integration with the index patched out
   (baseline), the sequencer's tree update per leaf, building the tree from
   the stored chains (a sequencer's start, an export at an older size) and a
   lookup proved and verified. Goal: at most 100 us a leaf in all.
"""
