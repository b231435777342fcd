"""Additional fields (lisäkentät): types, ordered options with stable ids, flags, order."""

from __future__ import annotations

from collections.abc import Sequence
from copy import deepcopy
from typing import Any, ClassVar, cast

from psa.errors import ConflictError, DomainError, NotFoundError

from .base import UNSET, SettingsEvent, SettingsPart
from .common import Actor, check_unique_name, clean_name, name_key
from .state import (
    COMPATIBLE_TYPE_CHANGES,
    FIELD_TYPES,
    HUBSPOT_PROPERTY_RE,
    OPTION_FIELD_TYPES,
    FieldState,
    OptionInput,
    OptionState,
    new_id,
)


class FieldEvent(SettingsEvent):
    field_id: str
    section: ClassVar[str] = "fields"

    def subject(self, settings: Any) -> Any:
        item = settings.fields.get(self.field_id)
        return deepcopy(item) if item else None


class FieldAdded(FieldEvent):
    name: str
    field_type: str
    options: list[OptionState]
    shown_in_details_and_list: bool
    mandatory: bool
    shown_in_reports: bool
    hubspot_property_id: str | None

    def apply(self, settings: Any) -> None:
        settings.fields[self.field_id] = {
            "id": self.field_id,
            "name": self.name,
            "type": self.field_type,
            "options": [cast(OptionState, dict(o)) for o in self.options],
            "shown_in_details_and_list": self.shown_in_details_and_list,
            "mandatory": self.mandatory,
            "shown_in_reports": self.shown_in_reports,
            "hubspot_property_id": self.hubspot_property_id,
            "archived": False,
        }
        settings.field_order.append(self.field_id)


class FieldRenamed(FieldEvent):
    name: str

    def apply(self, settings: Any) -> None:
        settings.fields[self.field_id]["name"] = self.name


class FieldTypeChanged(FieldEvent):
    field_type: str

    def apply(self, settings: Any) -> None:
        settings.fields[self.field_id]["type"] = self.field_type


class FieldFlagsChanged(FieldEvent):
    shown_in_details_and_list: bool
    mandatory: bool
    shown_in_reports: bool

    def apply(self, settings: Any) -> None:
        item = settings.fields[self.field_id]
        item["shown_in_details_and_list"] = self.shown_in_details_and_list
        item["mandatory"] = self.mandatory
        item["shown_in_reports"] = self.shown_in_reports


class FieldHubSpotPropertyChanged(FieldEvent):
    hubspot_property_id: str | None

    def apply(self, settings: Any) -> None:
        settings.fields[self.field_id]["hubspot_property_id"] = self.hubspot_property_id


class FieldOptionsChanged(FieldEvent):
    """The field's whole option list, in its new order."""

    options: list[OptionState]

    def apply(self, settings: Any) -> None:
        settings.fields[self.field_id]["options"] = [
            cast(OptionState, dict(o)) for o in self.options
        ]


class FieldArchived(FieldEvent):
    def apply(self, settings: Any) -> None:
        settings.fields[self.field_id]["archived"] = True


class FieldRestored(FieldEvent):
    def apply(self, settings: Any) -> None:
        settings.fields[self.field_id]["archived"] = False


class FieldsReordered(SettingsEvent):
    field_ids: list[str]
    section: ClassVar[str] = "fields"

    def apply(self, settings: Any) -> None:
        settings.field_order = list(self.field_ids)

    def subject(self, settings: Any) -> Any:
        return {"field_ids": list(settings.field_order)}


class AdditionalFields(SettingsPart):
    """Additional customer fields and their order."""

    # ---------------------------------------------------------------- additional fields
    def _field(self, field_id: str) -> FieldState:
        try:
            return self.fields[field_id]
        except KeyError:
            raise NotFoundError(f"no additional field with id '{field_id}'", "field_id") from None

    def _clean_hubspot(self, value: str | None, except_id: str | None = None) -> str | None:
        if value is None or not value.strip():
            return None
        cleaned = value.strip()
        if not HUBSPOT_PROPERTY_RE.match(cleaned):
            raise DomainError(
                "a HubSpot property id is lower-case letters, digits and underscores, "
                "starting with a letter",
                "hubspot_property_id",
            )
        for other in self.fields.values():
            if other["id"] != except_id and other["hubspot_property_id"] == cleaned:
                raise ConflictError(
                    f"the field '{other['name']}' already syncs to this HubSpot property",
                    "hubspot_property_id",
                )
        return cleaned

    @staticmethod
    def _clean_options(
        field_type: str, options: Sequence[OptionInput | str], existing: Sequence[OptionState]
    ) -> list[OptionState]:
        """Validate an option list: new ones get ids, existing ones (by id or by name) keep theirs.

        Existing options left out of the list are archived, not dropped, so that customers
        that have them still resolve.
        """
        if options and field_type not in OPTION_FIELD_TYPES:
            raise DomainError("only dropdown and multiselect fields have options", "options")
        by_id = {o["id"]: o for o in existing}
        by_name = {name_key(o["name"]): o["id"] for o in existing}
        seen_ids: set[str] = set()
        seen_names: set[str] = set()
        result: list[OptionState] = []
        for index, raw in enumerate(options):
            option: OptionInput = {"name": raw} if isinstance(raw, str) else raw
            where = f"options[{index}]"
            name = clean_name(option.get("name", ""), f"{where}.name")
            # An option sent by name alone is the existing option of that name, if there is one.
            option_id = option.get("id") or by_name.get(name_key(name))
            if option_id:
                if option_id not in by_id:
                    raise NotFoundError(f"no option with id '{option_id}'", f"{where}.id")
                if option_id in seen_ids:
                    raise ConflictError(
                        "the same option is listed twice",
                        f"{where}.id" if option.get("id") else f"{where}.name",
                    )
                seen_ids.add(option_id)
            else:
                option_id = new_id()
            key = name_key(name)
            if key in seen_names:
                raise ConflictError(f"an option named '{name}' is listed twice", f"{where}.name")
            seen_names.add(key)
            result.append(
                {"id": option_id, "name": name, "archived": bool(option.get("archived", False))}
            )
        for old in existing:
            if old["id"] not in seen_ids:
                if name_key(old["name"]) in seen_names:
                    raise ConflictError(
                        f"an option named '{old['name']}' exists (it is being archived; "
                        "list it by its id to keep it instead)",
                        "options",
                    )
                result.append({"id": old["id"], "name": old["name"], "archived": True})
        return result

    def add_field(
        self,
        actor: Actor,
        name: str,
        field_type: str,
        *,
        options: Sequence[OptionInput | str] = (),
        shown_in_details_and_list: bool = True,
        mandatory: bool = False,
        shown_in_reports: bool = True,
        hubspot_property_id: str | None = None,
    ) -> str:
        """Add an additional customer field at the end of the field order."""
        name = clean_name(name)
        check_unique_name(name, cast(dict, self.fields), "an additional field")  # type: ignore[type-arg]
        if field_type not in FIELD_TYPES:
            raise DomainError(f"must be one of {', '.join(FIELD_TYPES)}", "type")
        cleaned_options = self._clean_options(field_type, options, [])
        hubspot = self._clean_hubspot(hubspot_property_id)
        field_id = new_id()
        self._trigger(
            FieldAdded,
            actor,
            field_id=field_id,
            name=name,
            field_type=field_type,
            options=cleaned_options,
            shown_in_details_and_list=bool(shown_in_details_and_list),
            mandatory=bool(mandatory),
            shown_in_reports=bool(shown_in_reports),
            hubspot_property_id=hubspot,
        )
        return field_id

    def update_field(
        self,
        actor: Actor,
        field_id: str,
        *,
        name: str | None = None,
        field_type: str | None = None,
        shown_in_details_and_list: bool | None = None,
        mandatory: bool | None = None,
        shown_in_reports: bool | None = None,
        hubspot_property_id: Any = UNSET,
        options: Sequence[OptionInput | str] | None = None,
        archived: bool | None = None,
    ) -> str:
        """Change an additional field; its type only to a compatible one."""
        item = self._field(field_id)
        events: list[tuple[type[SettingsEvent], dict[str, Any]]] = []
        if name is not None:
            name = clean_name(name)
            check_unique_name(
                name,
                cast(dict, self.fields),
                "an additional field",
                except_id=field_id,  # type: ignore[type-arg]
            )
            if name != item["name"]:
                events.append((FieldRenamed, {"field_id": field_id, "name": name}))
        new_type = item["type"]
        if field_type is not None and field_type != item["type"]:
            if field_type not in FIELD_TYPES:
                raise DomainError(f"must be one of {', '.join(FIELD_TYPES)}", "type")
            if (item["type"], field_type) not in COMPATIBLE_TYPE_CHANGES:
                raise DomainError(
                    f"a {item['type']} field cannot become a {field_type} field; only "
                    "text and textarea swap, and dropdown can become multiselect",
                    "type",
                )
            new_type = field_type
            events.append((FieldTypeChanged, {"field_id": field_id, "field_type": field_type}))
        flags = {
            "shown_in_details_and_list": item["shown_in_details_and_list"],
            "mandatory": item["mandatory"],
            "shown_in_reports": item["shown_in_reports"],
        }
        for key, value in (
            ("shown_in_details_and_list", shown_in_details_and_list),
            ("mandatory", mandatory),
            ("shown_in_reports", shown_in_reports),
        ):
            if value is not None:
                flags[key] = bool(value)
        if flags != {key: item[key] for key in flags}:  # type: ignore[literal-required]
            events.append((FieldFlagsChanged, {"field_id": field_id, **flags}))
        if hubspot_property_id is not UNSET:
            hubspot = self._clean_hubspot(hubspot_property_id, except_id=field_id)
            if hubspot != item["hubspot_property_id"]:
                events.append(
                    (
                        FieldHubSpotPropertyChanged,
                        {"field_id": field_id, "hubspot_property_id": hubspot},
                    )
                )
        if options is not None:
            cleaned = self._clean_options(new_type, options, item["options"])
            if cleaned != item["options"]:
                events.append((FieldOptionsChanged, {"field_id": field_id, "options": cleaned}))
        if archived is not None and bool(archived) != item["archived"]:
            event_class: type[SettingsEvent] = FieldArchived if archived else FieldRestored
            events.append((event_class, {"field_id": field_id}))
        for event_class, kwargs in events:
            self._trigger(event_class, actor, **kwargs)
        return field_id

    def reorder_fields(self, actor: Actor, field_ids: Sequence[str]) -> None:
        """Put the additional fields in a new order; every field must be listed once."""
        listed = list(field_ids)
        if len(set(listed)) != len(listed):
            raise DomainError("a field is listed more than once", "field_ids")
        unknown = [fid for fid in listed if fid not in self.fields]
        if unknown:
            raise NotFoundError(f"no additional field with id '{unknown[0]}'", "field_ids")
        missing = [fid for fid in self.field_order if fid not in set(listed)]
        if missing:
            names = ", ".join(self.fields[fid]["name"] for fid in missing)
            raise DomainError(f"every field must be listed; missing: {names}", "field_ids")
        if listed != self.field_order:
            self._trigger(FieldsReordered, actor, field_ids=listed)
