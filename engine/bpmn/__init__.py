"""The only code that touches SpiffWorkflow: parsing and validating diagrams (XML parsed safely),
running and serializing workflows, the sandbox that diagram scripts and expressions run in, the
routing of SpiffWorkflow's timer clock, and the JSON Schema forms of user tasks. Above this
package, a workflow is an opaque object handled through `runtime`."""
