"""Pages for getting in (sign-up, sign-in, password reset, invitations) and for running an organisation."""

from __future__ import annotations

from typing import Any

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView, TemplateView

from okrsignal import api_tokens, selectors, services
from okrsignal.forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    EmailAuthenticationForm,
    InvitationForm,
    MembershipForm,
    SignupForm,
    TeamForm,
)
from okrsignal.models import ApiToken, Invitation, Membership, Organization, Role, Team, User
from okrsignal.permissions import OrganizationViewMixin, refuse, report_ids, visible_membership_ids

AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _form_errors_from(form: Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, on the field it names where the form has one."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


# --- Getting in -------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    """Anonymous visitors go to sign-in; members to their organisation, or the switcher if several."""
    if not request.user.is_authenticated:
        return redirect("login")
    memberships = selectors.memberships_of_user(request.user)
    if len(memberships) == 1:
        return redirect("organization_home", org_slug=memberships[0].organization.slug)
    return redirect("organization_switcher")


class OrganizationSwitcherView(TemplateView):
    template_name = "okrsignal/organization_switcher.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "memberships": selectors.memberships_of_user(self.request.user),
        }


class SignupView(FormView):
    """Self-serve sign-up: a new person creates a new organisation and becomes its first admin."""

    template_name = "registration/signup.html"
    form_class = SignupForm

    def form_valid(self, form: SignupForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            with transaction.atomic():
                user = services.user_create(
                    email=data["email"], full_name=data["full_name"], password=data["password"]
                )
                slug = data["organization_slug"] or services.organization_slug_suggest(
                    data["organization_name"]
                )
                organization = services.organization_create(
                    name=data["organization_name"], slug=slug, first_admin=user
                )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "slug" in error.error_dict:
                error = ValidationError({"organization_slug": error.error_dict["slug"]})
            _form_errors_from(form, error)
            return self.form_invalid(form)
        login(self.request, user, backend=AUTH_BACKEND)
        messages.success(
            self.request, f"Welcome to OKRSignal. {organization.name} is ready: invite your team next."
        )
        return redirect("organization_home", org_slug=organization.slug)


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password also lifts a sign-in lockout on that account."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        axes_reset(username=form.user.email)
        return response


class InvitationAcceptView(View):
    """``/o/<slug>/join/<token>/``: the signed token, not membership, is what lets the visitor in."""

    template_name = "registration/accept_invitation.html"

    def _context(self, request: HttpRequest, org_slug: str, token: str) -> dict[str, Any]:
        organization = get_object_or_404(Organization, slug=org_slug)
        context: dict[str, Any] = {"invited_organization": organization, "problem": None, "invitation": None}
        try:
            context["invitation"] = services.invitation_from_token(organization=organization, token=token)
        except services.InvitationProblem as problem:
            context["problem"] = problem.message
        return context

    def get(self, request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
        context = self._context(request, org_slug, token)
        if context["invitation"] is not None and not request.user.is_authenticated:
            existing = User.objects.filter(email__iexact=context["invitation"].email).exists()
            context["has_account"] = existing
            context["form"] = None if existing else AcceptInvitationForm()
        return render(request, self.template_name, context, status=404 if context["problem"] else 200)

    def post(self, request: HttpRequest, org_slug: str, token: str) -> HttpResponse:
        context = self._context(request, org_slug, token)
        invitation = context["invitation"]
        if invitation is None:
            return render(request, self.template_name, context, status=404)
        organization = context["invited_organization"]
        if request.user.is_authenticated:
            user = request.user
        else:
            if User.objects.filter(email__iexact=invitation.email).exists():
                return redirect(f"{reverse('login')}?next={request.path}")
            form = AcceptInvitationForm(request.POST)
            if not form.is_valid():
                return render(request, self.template_name, {**context, "form": form}, status=400)
            user = None
        try:
            with transaction.atomic():
                if user is None:
                    user = services.user_create(
                        email=invitation.email,
                        full_name=form.cleaned_data["full_name"],
                        password=form.cleaned_data["password"],
                    )
                services.invitation_accept(organization=organization, token=token, user=user)
        except services.InvitationProblem as problem:
            return render(
                request,
                self.template_name,
                {**context, "invitation": None, "problem": problem.message},
                status=400,
            )
        if not request.user.is_authenticated:
            login(request, user, backend=AUTH_BACKEND)
        messages.success(request, f"You have joined {organization.name}.")
        return redirect("organization_home", org_slug=organization.slug)


# --- The organisation -------------------------------------------------------------------------------
# Its home page is the leader dashboard (``alignment.views.LeaderDashboardView``).


class PeopleView(OrganizationViewMixin, TemplateView):
    """Everyone in the organisation; admins also see invitations and deactivated members."""

    template_name = "okrsignal/people.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        members = selectors.member_list()
        if not self.membership.is_admin:
            members = members.filter(is_active=True)
        return {
            **super().get_context_data(**kwargs),
            "members": members,
            "invitations": selectors.pending_invitations() if self.membership.is_admin else [],
            "visible_ids": visible_membership_ids(self.membership),
        }


class MembershipDetailView(OrganizationViewMixin, TemplateView):
    """A person's page: for themselves, anyone up their reporting line, and admins."""

    template_name = "okrsignal/membership_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        person = get_object_or_404(selectors.member_list(), pk=self.kwargs["membership_id"])
        visible = visible_membership_ids(self.membership)
        if visible is not None and person.pk not in visible:
            refuse()
        reports = selectors.member_list().filter(pk__in=report_ids(person), is_active=True)
        return {**super().get_context_data(**kwargs), "person": person, "reports": reports}


class MyTeamView(OrganizationViewMixin, TemplateView):
    """The people who report to the viewer, directly or indirectly."""

    template_name = "okrsignal/my_team.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        reports = list(selectors.member_list().filter(pk__in=report_ids(self.membership), is_active=True))
        direct = [person for person in reports if person.manager_id == self.membership.pk]
        return {**super().get_context_data(**kwargs), "reports": reports, "direct": direct}


class InviteView(OrganizationViewMixin, FormView):
    required_role = Role.ADMIN
    template_name = "okrsignal/invite.html"
    form_class = InvitationForm

    def form_valid(self, form: InvitationForm) -> HttpResponse:
        try:
            invitation = services.invitation_create(invited_by=self.membership, **form.cleaned_data)
        except ValidationError as error:
            _form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Invitation sent to {invitation.email}.")
        return redirect("people", org_slug=self.organization.slug)


class MembershipEditView(OrganizationViewMixin, FormView):
    required_role = Role.ADMIN
    template_name = "okrsignal/membership_edit.html"
    form_class = MembershipForm

    def get_person(self) -> Membership:
        return get_object_or_404(selectors.member_list(), pk=self.kwargs["membership_id"])

    def get_initial(self) -> dict[str, Any]:
        person = self.get_person()
        return {"role": person.role, "team": person.team, "manager": person.manager, "title": person.title}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "person": self.get_person()}

    def form_valid(self, form: MembershipForm) -> HttpResponse:
        person = self.get_person()
        try:
            services.membership_update(membership=person, **form.cleaned_data)
        except ValidationError as error:
            _form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Saved {person}.")
        return redirect("people", org_slug=self.organization.slug)


class MembershipActivationView(OrganizationViewMixin, View):
    """POST only: deactivate or reactivate a member. Their history stays."""

    required_role = Role.ADMIN
    activate = False

    def post(self, request: HttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
        person = get_object_or_404(Membership, pk=membership_id)
        try:
            if self.activate:
                services.membership_reactivate(membership=person)
                messages.success(request, f"{person} is active again.")
            else:
                services.membership_deactivate(membership=person)
                messages.success(request, f"{person} is deactivated; their history is kept.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("people", org_slug=org_slug)


class InvitationRevokeView(OrganizationViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request: HttpRequest, org_slug: str, invitation_id: int) -> HttpResponse:
        invitation = get_object_or_404(Invitation, pk=invitation_id)
        services.invitation_revoke(invitation=invitation)
        messages.success(request, f"Invitation for {invitation.email} withdrawn.")
        return redirect("people", org_slug=org_slug)


class TeamsView(OrganizationViewMixin, TemplateView):
    template_name = "okrsignal/teams.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "teams": selectors.team_tree()}


class TeamFormView(OrganizationViewMixin, FormView):
    """Create a team (no ``team_id``) or edit one."""

    required_role = Role.ADMIN
    template_name = "okrsignal/team_form.html"
    form_class = TeamForm

    def get_team(self) -> Team | None:
        team_id = self.kwargs.get("team_id")
        return get_object_or_404(Team, pk=team_id) if team_id is not None else None

    def get_initial(self) -> dict[str, Any]:
        team = self.get_team()
        return {"name": team.name, "parent": team.parent, "lead": team.lead} if team else {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "team": self.get_team()}

    def form_valid(self, form: TeamForm) -> HttpResponse:
        team = self.get_team()
        try:
            if team is None:
                team = services.team_create(**form.cleaned_data)
            else:
                services.team_update(team=team, **form.cleaned_data)
        except ValidationError as error:
            _form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Saved team {team.name}.")
        return HttpResponseRedirect(reverse("teams", kwargs={"org_slug": self.organization.slug}))


# --- API tokens -------------------------------------------------------------------------------------


class ApiTokensView(OrganizationViewMixin, FormView):
    """Admins list the organisation's API tokens and create new ones. A new token is shown once, in the
    answer to the form, and never again: only its digest is kept."""

    required_role = Role.ADMIN
    template_name = "okrsignal/api_tokens.html"
    form_class = ApiTokenForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "tokens": ApiToken.objects.select_related("created_by__user"),
        }

    def form_valid(self, form: ApiTokenForm) -> HttpResponse:
        token, raw_token = api_tokens.api_token_create(created_by=self.membership, **form.cleaned_data)
        response = self.render_to_response(
            self.get_context_data(form=ApiTokenForm(), new_token=token, raw_token=raw_token)
        )
        # The only copy of the token: no cache, no back button, may keep it.
        response["Cache-Control"] = "no-store"
        return response


class ApiTokenRevokeView(OrganizationViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request: HttpRequest, org_slug: str, api_token_id: int) -> HttpResponse:
        token = get_object_or_404(ApiToken, pk=api_token_id)
        api_tokens.api_token_revoke(token=token)
        messages.success(request, f"Revoked the token “{token.name}”: it no longer opens the API.")
        return redirect("api_tokens", org_slug=org_slug)
