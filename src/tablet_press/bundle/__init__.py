"""Finding the project, reading an issue folder (YAML with positions, markdown), the schema, the model."""
