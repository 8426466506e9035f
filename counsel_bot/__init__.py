"""The counselling bot: intake, queue, routing, crisis flags, blended channels."""
