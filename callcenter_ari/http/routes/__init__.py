"""The API's resources under ``/api/v1``: one module per resource, each with its Structs and its controller."""
