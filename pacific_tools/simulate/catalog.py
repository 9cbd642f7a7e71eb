"""Price list and the business vocabulary of the simulated company (plans, add-ons, support).

All list prices are annual US dollars; MRR is annual / 12 (docs/semantic-contract.md). Monthly
billers pay the annual price / 12 each month, so their invoices match their MRR to the cent (modulo
rounding).
"""

from __future__ import annotations

#: annual price per seat
PLAN_PRICE = {"starter": 300.0, "growth": 600.0, "enterprise": 1200.0}
PLAN_ORDER = ("starter", "growth", "enterprise")
#: annual flat price per add-on feature (product ``feature:<name>``)
ADDON_PRICE = {"analytics": 2400.0, "sso": 1800.0, "api": 3600.0}
#: annual price per support tier (product ``support:<tier>``; standard is free and not invoiced)
SUPPORT_PRICE = {"standard": 0.0, "premium": 6000.0, "enterprise": 18000.0}

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_P = (0.6, 0.3, 0.1)
#: seats relative to users_per_account (mixture mean ~1)
SEGMENT_SEAT_FACTOR = {"smb": 0.35, "mid_market": 1.3, "enterprise": 3.9}
SEGMENT_PLAN_P = {
    "smb": {"starter": 0.7, "growth": 0.3},
    "mid_market": {"starter": 0.15, "growth": 0.7, "enterprise": 0.15},
    "enterprise": {"growth": 0.2, "enterprise": 0.8},
}
SEGMENT_SUPPORT_P = {
    "smb": {"standard": 0.85, "premium": 0.15},
    "mid_market": {"standard": 0.5, "premium": 0.45, "enterprise": 0.05},
    "enterprise": {"premium": 0.4, "enterprise": 0.6},
}
SEGMENT_ADDON_P = {"smb": 0.1, "mid_market": 0.3, "enterprise": 0.6}
SEGMENT_ANNUAL_BILLING_P = {"smb": 0.3, "mid_market": 0.6, "enterprise": 0.9}
SEGMENT_TRIAL_P = {"smb": 0.7, "mid_market": 0.5, "enterprise": 0.2}
SEGMENT_CHURN_P = {"smb": 0.25, "mid_market": 0.12, "enterprise": 0.06}
#: mid-term seat changes per year
SEGMENT_SEAT_EVENTS = {"smb": 2.0, "mid_market": 3.0, "enterprise": 4.0}
TRIAL_CONVERSION_P = 0.65
TRIAL_DAYS = 14
RENEWAL_WINDOW_DAYS = 90

REGIONS = ("na", "emea", "apac", "latam")
REGION_P = (0.45, 0.3, 0.15, 0.1)
#: hours to add to UTC to get local time (business hours are local)
REGION_UTC_OFFSET = {"na": -5, "emea": 1, "apac": 8, "latam": -3}
INDUSTRIES = ("software", "finance", "healthcare", "retail", "manufacturing", "education", "media")
NAME_WORDS = (
    "Acme",
    "Blue",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orchid",
    "Pioneer",
    "Quartz",
    "Ridge",
    "Summit",
    "Tidal",
    "Umber",
    "Vertex",
    "Willow",
    "Zephyr",
)
NAME_SUFFIX = ("Labs", "Systems", "Group", "Health", "Retail", "Works", "Partners", "Logistics")

USER_TEAMS = ("sales", "support", "engineering", "marketing", "finance", "operations")
USER_TEAM_P = (0.25, 0.2, 0.25, 0.12, 0.08, 0.1)
UNLICENSED_SHARE = 0.15

PAGES = ("home", "dashboard", "accounts", "contacts", "reports", "settings", "pipeline", "inbox")
PAGE_P = (0.12, 0.22, 0.16, 0.14, 0.1, 0.04, 0.14, 0.08)
ACTIONS = ("view", "click", "search", "edit", "save", "export")
ACTION_P = (0.45, 0.3, 0.1, 0.08, 0.05, 0.02)

#: company teams on the payroll (hr/salaries) and their share of the salary bill
PAYROLL_TEAMS = {
    "engineering": 0.35,
    "sales": 0.2,
    "customer_success": 0.12,
    "support": 0.1,
    "marketing": 0.1,
    "product": 0.08,
    "g_and_a": 0.05,
}
MONTHLY_SALARY_PER_HEAD = 9000.0
CAPEX_LIFE_MONTHS = 36


def mrr_of(plan: str | None, seats: int, addons: frozenset[str], support: str | None) -> float:
    """Contracted MRR (annual list price / 12), rounded to cents."""
    if plan is None:
        return 0.0
    annual = seats * PLAN_PRICE[plan] + sum(ADDON_PRICE[a] for a in addons)
    annual += SUPPORT_PRICE[support or "standard"]
    return round(annual / 12.0, 2)
