"""Settings for thank-you rewards (MANAGE_SETTINGS): the switch, the states whose law bars any
reward for a patient referral, and the practice's list of non-cash items."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from refloop.advocacy import rewards
from refloop.advocacy.models import (
    REWARD_ITEM_LIMIT_CENTS,
    REWARD_YEAR_LIMIT_CENTS,
    AdvocacySettings,
    RewardItem,
)
from refloop.core.errors import InvalidInput
from refloop.core.roles import Capability
from refloop.practice.models import Location
from refloop.web.access import staff_view
from refloop.web.forms import attach_domain_error

settings_view = staff_view(Capability.MANAGE_SETTINGS)


class SwitchForm(forms.Form):
    enabled = forms.BooleanField(label="Offer thank-you rewards to advocates", required=False)
    barred_states = forms.CharField(
        label="States whose law bars rewards for patient referrals",
        required=False,
        max_length=200,
        help_text="Two-letter codes separated by commas, e.g. TX, NY.",
    )


class ItemForm(forms.Form):
    name = forms.CharField(label="Item", max_length=120)
    value = forms.CharField(
        label="Value in dollars",
        max_length=8,
        help_text=f"At most {rewards.dollars(REWARD_ITEM_LIMIT_CENTS)}.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    not_cash = forms.BooleanField(
        label="I confirm this item is not cash or a cash equivalent (no gift card, prepaid card, check or voucher)",
        required=False,
    )

    def clean_value(self) -> int:
        raw = self.cleaned_data["value"].strip().lstrip("$")
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError(
                "Write the value as dollars and cents, e.g. 12.50."
            ) from None
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError("Write the value to the cent, e.g. 12.50.")
        return int(amount * 100)


def _page(request, switch: SwitchForm, item_form: ItemForm, *, status: int = 200):
    found = AdvocacySettings.current()
    context = {
        "switch": switch,
        "item_form": item_form,
        "settings": found,
        "items": [
            {"item": i, "value": rewards.dollars(i.value_cents)}
            for i in RewardItem.objects.order_by("-active", "name", "pk")
        ],
        "item_limit": rewards.dollars(REWARD_ITEM_LIMIT_CENTS),
        "year_limit": rewards.dollars(REWARD_YEAR_LIMIT_CENTS),
        "practice_states": sorted(
            set(Location.objects.exclude(state="").values_list("state", flat=True))
        ),
    }
    return render(request, "advocacy/advocates/reward_settings.html", context, status=status)


def _switch_initial() -> dict:
    found = AdvocacySettings.current()
    return {
        "enabled": found.rewards_enabled,
        "barred_states": ", ".join(found.rewards_barred_states),
    }


@require_http_methods(["GET", "POST"])
@settings_view
def reward_settings(request):
    if request.method != "POST":
        return _page(request, SwitchForm(initial=_switch_initial()), ItemForm())
    switch = SwitchForm(request.POST)
    if switch.is_valid():
        try:
            rewards.update_settings(
                acting_user=request.user,
                enabled=switch.cleaned_data["enabled"],
                barred_states=switch.cleaned_data["barred_states"].replace(";", ",").split(","),
                now=timezone.now(),
            )
        except InvalidInput as error:
            attach_domain_error(switch, error)
        else:
            messages.success(request, "The reward settings were saved.")
            return redirect("advocacy_reward_settings")
    return _page(request, switch, ItemForm(), status=422)


@require_POST
@settings_view
def reward_item_add(request):
    form = ItemForm(request.POST)
    if form.is_valid():
        try:
            item = rewards.add_item(
                acting_user=request.user,
                name=form.cleaned_data["name"],
                value_cents=form.cleaned_data["value"],
                not_cash=form.cleaned_data["not_cash"],
                now=timezone.now(),
            )
        except InvalidInput as error:
            attach_domain_error(form, error)
        else:
            messages.success(request, f"{item.name} was added to the list.")
            return redirect("advocacy_reward_settings")
    return _page(request, SwitchForm(initial=_switch_initial()), form, status=422)


@require_POST
@settings_view
def reward_item(request, item_id: int):
    item = get_object_or_404(RewardItem, pk=item_id)
    active = request.POST.get("active") == "on"
    rewards.set_item_active(acting_user=request.user, item=item, active=active, now=timezone.now())
    messages.success(request, f"{item.name} is {'on' if active else 'off'} the list.")
    return redirect("advocacy_reward_settings")


urlpatterns = [
    path("settings/feedback/rewards/", reward_settings, name="advocacy_reward_settings"),
    path("settings/feedback/rewards/items/", reward_item_add, name="advocacy_reward_item_add"),
    path(
        "settings/feedback/rewards/items/<int:item_id>/",
        reward_item,
        name="advocacy_reward_item",
    ),
]
