"""GeoReport v2 JSON schemas, written from the specification and open311/schema-validation (georeport-v2/*.json):
ids, codes, zipcodes, tokens and value keys are strings; lat/long numbers; metadata/variable/required booleans;
order an integer; description at most 4,000 characters; datetimes W3C with an offset; media_url a uri."""

DATETIME = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$"}
STRING = {"type": "string"}

SERVICE = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "additionalProperties": False,
    "properties": {
        "service_code": STRING,
        "service_name": STRING,
        "description": STRING,
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": STRING,
        "group": STRING,
    },
}
SERVICES = {"type": "array", "items": SERVICE}

ATTRIBUTE = {
    "type": "object",
    "required": ["variable", "code", "datatype", "required", "order", "description"],
    "additionalProperties": False,
    "properties": {
        "variable": {"type": "boolean"},
        "code": STRING,
        "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
        "required": {"type": "boolean"},
        "datatype_description": STRING,
        "order": {"type": "integer", "minimum": 1},
        "description": STRING,
        "values": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "name"],
                "additionalProperties": False,
                "properties": {"key": STRING, "name": STRING},
            },
        },
    },
}
SERVICE_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "additionalProperties": False,
    "properties": {"service_code": STRING, "attributes": {"type": "array", "items": ATTRIBUTE}},
}

REQUEST = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "additionalProperties": False,
    "properties": {
        "service_request_id": STRING,
        "status": {"enum": ["open", "closed"]},
        "status_notes": STRING,
        "service_name": STRING,
        "service_code": STRING,
        "description": {"type": "string", "maxLength": 4000},
        "agency_responsible": STRING,
        "service_notice": STRING,
        "requested_datetime": DATETIME,
        "updated_datetime": DATETIME,
        "expected_datetime": DATETIME,
        "address": STRING,
        "address_id": STRING,
        "zipcode": STRING,
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "media_url": {"type": "string", "format": "uri"},
    },
}
REQUESTS = {"type": "array", "items": REQUEST}

CREATED = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"service_request_id": STRING, "token": STRING, "service_notice": STRING, "account_id": STRING},
        "oneOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
    },
}
TOKEN = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "additionalProperties": False,
        "properties": {"service_request_id": STRING, "token": STRING},
    },
}
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "additionalProperties": False,
        "properties": {"code": {"type": "integer"}, "description": STRING},
    },
}
DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "additionalProperties": False,
    "properties": {
        "changeset": DATETIME,
        "contact": STRING,
        "key_service": STRING,
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "additionalProperties": False,
                "properties": {
                    "specification": STRING,
                    "url": STRING,
                    "changeset": DATETIME,
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": STRING, "contains": {"const": "text/xml"}},
                },
            },
        },
    },
}
UPDATES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["update_id", "service_request_id", "status", "updated_datetime"],
        "additionalProperties": False,
        "properties": {
            "update_id": STRING,
            "service_request_id": STRING,
            "status": {"enum": ["open", "closed"]},
            "description": STRING,
            "updated_datetime": DATETIME,
            "media_url": {"type": "string", "format": "uri"},
            "external_status_code": STRING,
        },
    },
}
UPDATE_CREATED = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["update_id"],
        "additionalProperties": False,
        "properties": {"update_id": STRING},
    },
}
