"""Landing-page links to the apps of later issues."""

ES_MX = {
    "Field app (meter readings)": "App de campo (lecturas)",
}
