"""Sign-in through the company IdP, end to end: authorization code + PKCE in the browser,
claims mapped, a changed claim moves the user, a removed group locks them out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from allauth.socialaccount.models import SocialApp
from playwright.sync_api import Browser, BrowserContext, Page, expect

from orgs.models import ClaimMappingRule, SsoSync, User
from orgs.selectors import primary_membership
from tests.oidc_idp import IdPFactory, TestIdP
from tests.personas import Personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
Action = ClaimMappingRule.Action
SCOPES = ["openid", "email", "profile", "groups", "department", "roles"]


@pytest.fixture
def idp(oidc_idp_factory: IdPFactory, live_daphne: str, personas: Personas) -> Iterator[TestIdP]:
    idp = oidc_idp_factory([f"{live_daphne}/accounts/oidc/company/login/callback/"])
    idp.reset_accounts()
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id="company",
        name="ACME SSO",
        client_id=idp.client_id,
        secret=idp.client_secret,
        settings={
            "server_url": idp.issuer,
            "scope": SCOPES,
            "oauth_pkce_enabled": True,
            "verified_email": True,
            "email_authentication": True,
        },
    )
    org = personas.org
    for position, (claim, value, action, target) in enumerate(
        [
            ("groups", "ai-users", Action.REQUIRE, ""),
            ("department", "*", Action.DEPARTMENT_FROM_CLAIM, ""),
            ("groups", "eng-leads", Action.GRANT_ROLE, "dept_admin"),
            ("groups", "platform-admins", Action.GRANT_ROLE, "platform_admin"),
            ("groups", "*", Action.GROUP_FROM_CLAIM, ""),
        ]
    ):
        ClaimMappingRule.objects.create(
            organization=org,
            position=position,
            claim=claim,
            value=value,
            action=action,
            target=target,
        )
    yield idp
    idp.reset_accounts()


def sso_sign_in(page: Page, base: str, account: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("[data-testid=sso-buttons] button").first.click()
    if page.locator("input[name=login]").count() or "/interaction/" in page.url:
        page.fill("input[name=login]", account)
        page.fill("input[name=password]", "any")
        page.click("button[type=submit]")


def sign_out(page: Page) -> None:
    page.locator("form[action='/accounts/logout/'] button").click()
    expect(page.locator("[data-testid=local-login]")).to_be_visible()


def test_new_employee_is_created_moved_and_locked_out(
    page: Page, live_daphne: str, idp: TestIdP
) -> None:
    # given an employee known only to the IdP
    idp.set_account(
        "newbie",
        email="new.hire@acme.test",
        email_verified=True,
        name="신입사원",
        groups=["ai-users", "tf-search"],
        department="ENG-PLAT",
    )
    # when they sign in through the IdP for the first time
    sso_sign_in(page, live_daphne, "newbie")
    # then an account exists, placed by the claims
    expect(page.get_by_test_id("current-user")).to_have_text("신입사원")
    user = User.objects.get(email="new.hire@acme.test")
    membership = primary_membership(user)
    assert membership is not None
    assert membership.department.code == "ENG-PLAT"
    assert set(user.org_groups.values_list("name", flat=True)) == {"ai-users", "tf-search"}
    first_sync = SsoSync.objects.get(user=user)
    assert first_sync.created_user

    # when the IdP moves them to HR and they sign in again
    sign_out(page)
    idp.update_account("newbie", department="HR", groups=["ai-users"])
    sso_sign_in(page, live_daphne, "newbie")
    expect(page.get_by_test_id("current-user")).to_have_text("신입사원")
    # then they follow the IdP
    membership = primary_membership(user)
    assert membership is not None
    assert membership.department.code == "HR"
    assert set(user.org_groups.values_list("name", flat=True)) == {"ai-users"}
    latest = SsoSync.objects.filter(user=user).first()
    assert latest is not None
    assert "department: ENG-PLAT → HR" in latest.changes

    # when the required group is removed at the IdP
    sign_out(page)
    idp.update_account("newbie", groups=["other"])
    sso_sign_in(page, live_daphne, "newbie")
    # then sign-in is refused and the account is locked until the IdP says otherwise
    expect(page.get_by_test_id("sso-denied")).to_be_visible()
    user.refresh_from_db()
    assert not user.is_active
    assert user.deactivated_reason == "sso"
    page.goto(f"{live_daphne}/")
    expect(page).to_have_url(f"{live_daphne}/accounts/login/?next=/")

    # when the group comes back, so does access
    idp.update_account("newbie", groups=["ai-users"])
    sso_sign_in(page, live_daphne, "newbie")
    expect(page.get_by_test_id("current-user")).to_have_text("신입사원")
    user.refresh_from_db()
    assert user.is_active


def test_three_employees_see_three_different_things(
    browser: Browser, live_daphne: str, idp: TestIdP, personas: Personas
) -> None:
    idp.set_account(
        "kim", email="kim@acme.test", name="김민수", groups=["ai-users"], department="HR"
    )
    idp.set_account(
        "lee",
        email="lee@acme.test",
        name="이지은",
        groups=["ai-users", "eng-leads"],
        department="ENG",
    )
    idp.set_account(
        "ops",
        email="ops2@acme.test",
        name="정관리",
        groups=["ai-users", "platform-admins"],
        department="IT",
    )
    seen: dict[str, dict[str, bool]] = {}
    for account in ("kim", "lee", "ops"):
        context: BrowserContext = browser.new_context(locale="ko-KR")
        page = context.new_page()
        sso_sign_in(page, live_daphne, account)
        expect(page.get_by_test_id("current-user")).to_be_visible()
        links = {
            "members": page.locator("a[href='/org/members/']").count() > 0,
            "sso_admin": page.locator("a[href='/org/sso/rules/']").count() > 0,
        }
        members_response = page.goto(f"{live_daphne}/org/members/")
        assert members_response is not None
        seen[account] = {**links, "members_page": members_response.status == 200}
        if account == "lee":
            expect(page.get_by_test_id("member-table")).to_contain_text("박지민")
            expect(page.get_by_test_id("member-table")).not_to_contain_text("김민수")
        context.close()
    assert seen == {
        "kim": {"members": False, "sso_admin": False, "members_page": False},
        "lee": {"members": True, "sso_admin": False, "members_page": True},
        "ops": {"members": True, "sso_admin": True, "members_page": True},
    }
