"""The company's accounts: CRM lifecycle, invoices and directory users, one account at a time.

Why a per-account loop: an account's story (trial -> subscription -> seat changes -> renewal
window -> renewal or churn -> reactivation) is sequential by nature and there are at most tens of
thousands of accounts, so plain Python stays fast (~1 s per 10k accounts). Anything per *user-day*
or per *click* is vectorized elsewhere (clicks.py).

Everything here is the fault-free truth; faults are applied later (faults.py) on copies.
Times are naive ``datetime`` values meaning UTC.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np

from pacific_tools.simulate import catalog as C
from pacific_tools.simulate.config import SimConfig

PAID_STATUSES = ("subscribed", "renewal_opened", "renewed")
#: status after each event type (None = unchanged)
STATUS_AFTER = {
    "account_created": "created",
    "trial_started": "trial",
    "subscribed": "subscribed",
    "renewal_opened": "renewal_opened",
    "renewed": "renewed",
    "churned": "churned",
    "reactivated": "subscribed",
}
VOID_P = 0.03
UNPAID_P = 0.04
GOODWILL_REFUND_P = 0.03


def add_months(d: dt.date, months: int) -> dt.date:
    """Same day-of-month ``months`` later, clamped to the month's last day (Jan 31 -> Feb 28)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def anniversary(d: dt.date) -> dt.date:
    """Annual contracts end (exclusive) on the anniversary date."""
    return add_months(d, 12)


def midnight(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day)


@dataclass
class Event:
    account: int
    event_type: str
    at: dt.datetime
    status: str
    plan: str | None
    seats: int
    contract_end: dt.date | None
    mrr: float
    addons: frozenset[str]
    support: str | None
    billing: str | None  # "annual" | "monthly"
    event_id: str = ""
    recorded_at: dt.datetime | None = None


@dataclass
class Line:
    invoice_id: str
    line_id: str
    account: int
    issued_at: dt.datetime
    paid_at: dt.datetime | None
    service_start: dt.date
    service_end: dt.date
    product: str
    quantity: int
    unit_price: float
    amount: float
    status: str  # final status: paid | open | void | refunded
    voided_at: dt.datetime | None = None
    billing: str = "monthly"
    kind: str = "regular"  # regular | proration | refund | goodwill_refund

    @property
    def days(self) -> int:
        return (self.service_end - self.service_start).days


EPOCH = dt.datetime(1970, 1, 1)
NEVER_S = float("inf")


@dataclass
class UserArrays:
    """Directory users as columns (one entry per user); times in whole epoch seconds (UTC)."""

    account: np.ndarray  # int64 account index
    created_s: np.ndarray  # float64
    deactivated_s: np.ndarray  # float64, inf = still active
    licensed: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.account)

    def take(self, mask: np.ndarray) -> UserArrays:
        return UserArrays(
            self.account[mask], self.created_s[mask], self.deactivated_s[mask], self.licensed[mask]
        )


@dataclass
class Company:
    """Fault-free source data of the whole company."""

    account_ids: list[str]
    accounts: list[dict]  # account_id, name, segment, region, industry, created_at
    events: list[Event]
    lines: list[Line]
    users: UserArrays


class _Ids:
    def __init__(self) -> None:
        self.invoice = 0
        self.event = 0

    def next_invoice(self) -> str:
        self.invoice += 1
        return f"INV-{self.invoice:07d}"

    def next_event(self) -> str:
        self.event += 1
        return f"CE-{self.event:08d}"


def _pick(rng: np.random.Generator, probs: dict[str, float]) -> str:
    keys = list(probs)
    p = np.array([probs[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _season_new_accounts(d: dt.date) -> float:
    """Signups: January budget season and Q4 push heavier, summer lighter."""
    return {1: 1.3, 2: 1.1, 3: 1.1, 6: 0.85, 7: 0.75, 8: 0.8, 10: 1.1, 11: 1.15, 12: 0.9}.get(
        d.month, 1.0
    )


class _Sim:
    def __init__(self, cfg: SimConfig, rng: np.random.Generator):
        self.cfg = cfg
        self.rng = rng
        self.start = midnight(cfg.start)
        self.end = midnight(cfg.end)
        self.ids = _Ids()
        self.events: list[Event] = []
        self.lines: list[Line] = []
        self.u_account: list[int] = []
        self.u_created: list[float] = []
        self.u_deact: list[float] = []
        self.u_licensed: list[bool] = []
        self.refunds_per_invoice: dict[str, int] = {}
        self.refunded_qty: dict[str, int] = {}

    # -- time helpers ---------------------------------------------------------------------
    def biz(self, d: dt.date, offset_h: int) -> dt.datetime:
        """A business-hours moment (09:00-17:00 local) on UTC date ``d``."""
        secs = (9 - offset_h) * 3600 + int(self.rng.integers(0, 8 * 3600))
        return midnight(d) + dt.timedelta(seconds=secs)

    # -- accounts -------------------------------------------------------------------------
    def account_creation_times(self) -> list[dt.datetime]:
        cfg, rng = self.cfg, self.rng
        n_pre = round(cfg.accounts * cfg.preexisting_share)
        n_new = cfg.accounts - n_pre
        times = []
        # pre-existing book: up to ~2.5 years old, more of them recent (the company grew)
        back = (900 * rng.random(n_pre) ** 1.5 + 1).astype(int)
        for b in back:
            d = cfg.start - dt.timedelta(days=int(b))
            times.append(midnight(d) + dt.timedelta(seconds=int(rng.integers(8 * 3600, 20 * 3600))))
        days = [cfg.start + dt.timedelta(days=i) for i in range(cfg.days)]
        growth = np.array(
            [
                (1.0 + 1.0 * i / len(days))
                * _season_new_accounts(d)
                * (0.3 if d.weekday() >= 5 else 1.0)
                for i, d in enumerate(days)
            ]
        )
        chosen = np.sort(rng.choice(len(days), size=n_new, p=growth / growth.sum()))
        for i in chosen:
            secs = int(rng.integers(8 * 3600, 20 * 3600))
            times.append(midnight(days[int(i)]) + dt.timedelta(seconds=secs))
        return sorted(times)

    def run(self) -> Company:
        rng = self.rng
        created = self.account_creation_times()
        n = len(created)
        segs = rng.choice(len(C.SEGMENTS), size=n, p=C.SEGMENT_P)
        regs = rng.choice(len(C.REGIONS), size=n, p=C.REGION_P)
        inds = rng.integers(0, len(C.INDUSTRIES), size=n)
        words = rng.integers(0, len(C.NAME_WORDS), size=(n, 2))
        suf = rng.integers(0, len(C.NAME_SUFFIX), size=n)
        account_ids = [f"A{i + 1:06d}" for i in range(n)]
        accounts = []
        for i in range(n):
            seg, reg = C.SEGMENTS[segs[i]], C.REGIONS[regs[i]]
            accounts.append(
                dict(
                    account_id=account_ids[i],
                    name=f"{C.NAME_WORDS[words[i, 0]]} {C.NAME_WORDS[words[i, 1]]} "
                    f"{C.NAME_SUFFIX[suf[i]]}",
                    segment=seg,
                    region=reg,
                    industry=C.INDUSTRIES[inds[i]],
                    created_at=created[i],
                )
            )
            evs = self.story(i, created[i], seg, C.REGION_UTC_OFFSET[reg])
            self.billing(i, evs, C.REGION_UTC_OFFSET[reg])
            self.directory(i, evs)
            self.events.extend(evs)
        users = UserArrays(
            np.array(self.u_account, dtype=np.int64),
            np.array(self.u_created, dtype=np.float64),
            np.array(self.u_deact, dtype=np.float64),
            np.array(self.u_licensed, dtype=bool),
        )
        return Company(account_ids, accounts, self.events, self.lines, users)

    # -- CRM story ------------------------------------------------------------------------
    def story(self, a: int, created: dt.datetime, seg: str, off: int) -> list[Event]:
        rng, end = self.rng, self.end
        evs: list[Event] = []

        def emit(etype: str, at: dt.datetime, plan, seats, ce, addons, support, billing) -> bool:
            if evs and at <= evs[-1].at:
                at = evs[-1].at + dt.timedelta(minutes=1)
            if at >= end:
                return False
            prev_status = evs[-1].status if evs else "created"
            status = STATUS_AFTER.get(etype) or prev_status
            mrr = C.mrr_of(plan, seats, addons, support) if status in PAID_STATUSES else 0.0
            evs.append(Event(a, etype, at, status, plan, seats, ce, mrr, addons, support, billing))
            return True

        base_seats = max(
            1,
            round(
                self.cfg.users_per_account
                * C.SEGMENT_SEAT_FACTOR[seg]
                * float(rng.lognormal(0.0, 0.4))
                / (1 + C.UNLICENSED_SHARE)
            ),
        )
        plan = _pick(rng, C.SEGMENT_PLAN_P[seg])
        emit("account_created", created, None, 0, None, frozenset(), None, None)
        if rng.random() < C.SEGMENT_TRIAL_P[seg]:
            t_trial = created + dt.timedelta(minutes=int(rng.integers(30, 48 * 60)))
            trial_seats = max(1, round(base_seats * 0.5))
            if not emit("trial_started", t_trial, plan, trial_seats, None, frozenset(), None, None):
                return evs
            if rng.random() >= C.TRIAL_CONVERSION_P:
                lapse = self.biz(t_trial.date() + dt.timedelta(days=C.TRIAL_DAYS), off)
                emit("churned", lapse, None, 0, None, frozenset(), None, None)
                return evs
            t_sub = self.biz(t_trial.date() + dt.timedelta(days=int(rng.integers(3, 15))), off)
        else:
            t_sub = self.biz(created.date() + dt.timedelta(days=int(rng.integers(0, 11))), off)

        addons = frozenset(a for a in C.ADDON_PRICE if rng.random() < C.SEGMENT_ADDON_P[seg])
        support = _pick(rng, C.SEGMENT_SUPPORT_P[seg])
        billing = "annual" if rng.random() < C.SEGMENT_ANNUAL_BILLING_P[seg] else "monthly"
        seats = base_seats
        start_type, t_start = "subscribed", t_sub
        while True:
            ce = anniversary(t_start.date())
            if not emit(start_type, t_start, plan, seats, ce, addons, support, billing):
                return evs
            t_start = evs[-1].at
            # mid-term changes, in time order, before the contract end
            changes: list[tuple[dt.datetime, str]] = []
            span = (midnight(ce) - t_start).total_seconds()
            for etype, rate in (
                ("seats_changed", C.SEGMENT_SEAT_EVENTS[seg]),
                ("addon_added", 0.5),
                ("addon_removed", 0.25),
                ("plan_changed", 0.2),
            ):
                k = int(rng.poisson(rate * span / (365 * 86400)))
                for u in rng.random(k):
                    day = (t_start + dt.timedelta(seconds=86400 + u * (span - 2 * 86400))).date()
                    changes.append((self.biz(day, off), etype))
            open_day = ce - dt.timedelta(days=C.RENEWAL_WINDOW_DAYS)
            changes.append((self.biz(open_day, off), "renewal_opened"))
            for at, etype in sorted(changes):
                if at <= t_start:
                    continue
                if etype == "seats_changed":
                    up = rng.random() < 0.7
                    delta = max(1, round(seats * float(rng.uniform(0.05, 0.3))))
                    new_seats = seats + delta if up else max(1, seats - delta)
                    if new_seats == seats:
                        continue
                    seats = new_seats
                elif etype == "addon_added":
                    free = [x for x in C.ADDON_PRICE if x not in addons]
                    if not free:
                        continue
                    addons = addons | {free[int(rng.integers(0, len(free)))]}
                elif etype == "addon_removed":
                    have = sorted(addons)
                    if not have:
                        continue
                    addons = addons - {have[int(rng.integers(0, len(have)))]}
                elif etype == "plan_changed":
                    i = C.PLAN_ORDER.index(plan)
                    if i == len(C.PLAN_ORDER) - 1:
                        continue
                    plan = C.PLAN_ORDER[i + 1]
                if not emit(etype, at, plan, seats, ce, addons, support, billing):
                    return evs
            t_end = self.biz(ce, off)
            if rng.random() < C.SEGMENT_CHURN_P[seg] * self.cfg.churn_multiplier:
                if not emit("churned", t_end, None, 0, None, frozenset(), None, None):
                    return evs
                if rng.random() >= self.cfg.reactivation_p:
                    return evs
                back = ce + dt.timedelta(days=int(rng.integers(30, 181)))
                seats = max(1, round(seats * float(rng.uniform(0.6, 1.0))))
                start_type, t_start = "reactivated", self.biz(back, off)
                continue
            seats = max(1, round(seats * float(rng.lognormal(0.05, 0.15))))
            if rng.random() < 0.1 and support != "enterprise":
                support = "premium" if support == "standard" else "enterprise"
            start_type, t_start = "renewed", t_end

    # -- billing --------------------------------------------------------------------------
    def _invoice(
        self,
        a: int,
        issued: dt.datetime,
        specs: list[tuple[str, int, float, dt.date, dt.date]],
        billing: str,
        kind: str = "regular",
        allow_void: bool = True,
    ) -> list[Line]:
        """Issue one invoice; returns its live (non-void) lines. A void is reissued at once."""
        rng = self.rng
        if issued >= self.end or not specs:
            return []
        inv = self.ids.next_invoice()
        u = rng.random()
        voided_at = paid_at = None
        if allow_void and u < VOID_P:
            voided_at = issued + dt.timedelta(hours=float(rng.uniform(24, 120)))
        elif u >= VOID_P + UNPAID_P:
            paid_at = issued + dt.timedelta(hours=float(min(rng.exponential(10 * 24), 75 * 24)))
        if voided_at is not None and voided_at >= self.end:
            voided_at = None
        if paid_at is not None and paid_at >= self.end:
            paid_at = None
        status = "void" if voided_at else ("paid" if paid_at else "open")
        out = []
        for k, (product, qty, unit, s, e) in enumerate(specs, start=1):
            line = Line(
                inv,
                f"{inv}-{k:02d}",
                a,
                issued,
                paid_at,
                s,
                e,
                product,
                qty,
                unit,
                round(qty * unit, 2),
                status,
                voided_at,
                billing,
                kind,
            )
            self.lines.append(line)
            out.append(line)
        if voided_at is not None:
            return self._invoice(a, voided_at + dt.timedelta(hours=1), specs, billing, kind, False)
        return out

    def _refund(self, line: Line, from_day: dt.date, qty: int, at: dt.datetime, kind: str) -> None:
        """Refund ``qty`` units of ``line`` for its remaining days ``[from_day, service_end)``."""
        remaining = (line.service_end - from_day).days
        if remaining <= 0 or qty <= 0 or at >= self.end or from_day < line.service_start:
            return
        unit = round(line.unit_price * remaining / line.days, 2)
        if unit <= 0:
            return
        n = self.refunds_per_invoice.get(line.invoice_id, 0)
        self.refunds_per_invoice[line.invoice_id] = n + 1
        self.refunded_qty[line.line_id] = self.refunded_qty.get(line.line_id, 0) + qty
        self.lines.append(
            Line(
                line.invoice_id,
                f"{line.invoice_id}-R{n + 1}",
                line.account,
                at,
                at,
                from_day,
                line.service_end,
                line.product,
                -qty,
                unit,
                round(-qty * unit, 2),
                "refunded",
                None,
                line.billing,
                kind,
            )
        )

    def _specs(self, ev: Event, s: dt.date, e: dt.date, months: int) -> list:
        """Invoice lines for a state: seats, add-ons and paid support over [s, e)."""
        div = 12 if months == 1 else 1
        out = [("seat_license", ev.seats, round(C.PLAN_PRICE[ev.plan] / div, 2), s, e)]
        for name in sorted(ev.addons):
            out.append((f"feature:{name}", 1, round(C.ADDON_PRICE[name] / div, 2), s, e))
        if C.SUPPORT_PRICE[ev.support or "standard"] > 0:
            out.append(
                (f"support:{ev.support}", 1, round(C.SUPPORT_PRICE[ev.support] / div, 2), s, e)
            )
        return out

    def billing(self, a: int, evs: list[Event], off: int) -> None:
        rng = self.rng
        horizon_floor = self.cfg.start - dt.timedelta(days=90)
        times = [e.at for e in evs]
        term_lines: dict[str, Line] = {}
        prev: Event | None = None
        for ev in evs:
            if ev.event_type in ("subscribed", "renewed", "reactivated"):
                s, ce = ev.at.date(), ev.contract_end
                if ev.billing == "annual":
                    if ce > horizon_floor:
                        live = self._invoice(a, ev.at, self._specs(ev, s, ce, 12), "annual")
                        term_lines = {ln.product: ln for ln in live}
                else:
                    term_lines = {}
                    for k in range(12):
                        ps, pe = add_months(s, k), add_months(s, k + 1)
                        if pe <= horizon_floor:
                            continue
                        issued = (
                            ev.at
                            if k == 0
                            else midnight(ps) + dt.timedelta(seconds=int(rng.integers(0, 3 * 3600)))
                        )
                        if issued >= self.end:
                            break
                        state = evs[bisect.bisect_right(times, issued) - 1]
                        if state.status not in PAID_STATUSES:
                            break
                        live = self._invoice(a, issued, self._specs(state, ps, pe, 1), "monthly")
                        for ln in live:
                            if (
                                ln.product == "seat_license"
                                and ln.paid_at is not None
                                and rng.random() < GOODWILL_REFUND_P
                            ):
                                day = ps + dt.timedelta(days=int(rng.integers(1, max(2, ln.days))))
                                at = max(self.biz(day, off), ln.paid_at + dt.timedelta(hours=2))
                                self._refund(ln, at.date(), ln.quantity, at, "goodwill_refund")
            elif ev.billing == "annual" and prev is not None and ev.contract_end is not None:
                d, ce = ev.at.date(), ev.contract_end
                term_days = (ce - add_months(ce, -12)).days
                remaining = (ce - d).days
                if remaining <= 0:
                    prev = ev
                    continue
                if ev.event_type == "seats_changed" and ev.seats > prev.seats:
                    unit = round(C.PLAN_PRICE[ev.plan] * remaining / term_days, 2)
                    self._invoice(
                        a,
                        ev.at,
                        [("seat_license", ev.seats - prev.seats, unit, d, ce)],
                        "annual",
                        "proration",
                    )
                elif ev.event_type == "seats_changed" and ev.seats < prev.seats:
                    main = term_lines.get("seat_license")
                    if main is not None:
                        refunded = self.refunded_qty.get(main.line_id, 0)
                        k = min(prev.seats - ev.seats, main.quantity - refunded)
                        self._refund(main, d, k, ev.at, "refund")
                elif ev.event_type == "plan_changed":
                    diff = C.PLAN_PRICE[ev.plan] - C.PLAN_PRICE[prev.plan]
                    unit = round(diff * remaining / term_days, 2)
                    self._invoice(
                        a, ev.at, [("seat_license", ev.seats, unit, d, ce)], "annual", "proration"
                    )
                elif ev.event_type == "addon_added":
                    (name,) = ev.addons - prev.addons
                    unit = round(C.ADDON_PRICE[name] * remaining / term_days, 2)
                    live = self._invoice(
                        a, ev.at, [(f"feature:{name}", 1, unit, d, ce)], "annual", "proration"
                    )
                    term_lines.update({ln.product: ln for ln in live})
                elif ev.event_type == "addon_removed":
                    (name,) = prev.addons - ev.addons
                    line = term_lines.pop(f"feature:{name}", None)
                    if line is not None:
                        self._refund(line, d, 1, ev.at, "refund")
            prev = ev

    # -- directory ------------------------------------------------------------------------
    def directory(self, a: int, evs: list[Event]) -> None:
        """Users follow seats: licensed users ~ seats x utilization, plus a few unlicensed."""
        rng = self.rng
        util = float(rng.uniform(0.75, 0.98))
        licensed: list[int] = []
        unlicensed: list[int] = []

        def add(n: int, at: dt.datetime, spread_days: float, is_licensed: bool) -> None:
            if n <= 0:
                return
            base = (at - EPOCH).total_seconds()
            created = np.floor(base + rng.uniform(0, spread_days * 86400, size=n)).tolist()
            first = len(self.u_account)
            (licensed if is_licensed else unlicensed).extend(range(first, first + n))
            self.u_account.extend([a] * n)
            self.u_created.extend(created)
            self.u_deact.extend([NEVER_S] * n)
            self.u_licensed.extend([is_licensed] * n)

        def deactivate(pool: list[int], n: int, at: dt.datetime, spread_days: float) -> None:
            if n <= 0 or not pool:
                return
            n = min(n, len(pool))
            base = (at - EPOCH).total_seconds()
            if n == len(pool):
                gone, pool[:] = list(pool), []
            else:
                pick = set(rng.choice(len(pool), size=n, replace=False).tolist())
                gone = [u for j, u in enumerate(pool) if j in pick]
                pool[:] = [u for j, u in enumerate(pool) if j not in pick]
            when = np.floor(base + rng.uniform(0, spread_days * 86400, size=n)).tolist()
            for u, w in zip(gone, when, strict=True):
                self.u_deact[u] = max(w, self.u_created[u] + 3600)

        for ev in evs:
            if ev.event_type == "churned":
                deactivate(licensed, len(licensed), ev.at, 3)
                deactivate(unlicensed, len(unlicensed), ev.at, 3)
                continue
            if ev.status not in ("trial", *PAID_STATUSES):
                continue
            target = max(1, round(ev.seats * util))
            spread = 2 if ev.event_type == "trial_started" else 10
            if target > len(licensed):
                add(target - len(licensed), ev.at, spread, True)
            elif target < len(licensed):
                deactivate(licensed, len(licensed) - target, ev.at, 5)
            u_target = round(target * C.UNLICENSED_SHARE)
            if u_target > len(unlicensed):
                add(u_target - len(unlicensed), ev.at, spread, False)


def simulate_company(cfg: SimConfig, rng: np.random.Generator) -> Company:
    """Accounts, their CRM events, invoice lines and directory users (fault-free, horizon-cut)."""
    company = _Sim(cfg, rng).run()
    end = midnight(cfg.end)
    # users: nothing that happens at or after the end has happened yet
    end_s = (end - EPOCH).total_seconds()
    users = company.users.take(company.users.created_s < end_s)
    users.deactivated_s[users.deactivated_s >= end_s] = NEVER_S
    company.users = users
    # landed timestamps have whole seconds: keep the truth on exactly the same instants
    for ev in company.events:
        ev.at = ev.at.replace(microsecond=0)
    for ln in company.lines:
        ln.issued_at = ln.issued_at.replace(microsecond=0)
        ln.paid_at = ln.paid_at.replace(microsecond=0) if ln.paid_at else None
        ln.voided_at = ln.voided_at.replace(microsecond=0) if ln.voided_at else None
    # event ids in effective order per account; recorded a little after they took effect
    company.events.sort(key=lambda e: (e.at, e.account))
    delays = rng.exponential(2 * 3600, size=len(company.events)) + 120
    for ev, delay in zip(company.events, delays, strict=True):
        ev.event_id = ""
        ev.recorded_at = min(
            ev.at + dt.timedelta(seconds=int(delay)), end - dt.timedelta(seconds=1)
        )
    ids = _Ids()
    for ev in sorted(company.events, key=lambda e: (e.account, e.at)):
        ev.event_id = ids.next_event()
    company.events.sort(key=lambda e: (e.account, e.at))
    return company
