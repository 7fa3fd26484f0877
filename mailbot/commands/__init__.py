"""The `mailbot` sub-commands the DPO and compliance use, one module per resource."""
