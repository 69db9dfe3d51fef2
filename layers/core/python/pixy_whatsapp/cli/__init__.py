"""The `pixy-whatsapp` command line: operator and developer tools (not shipped to Lambda)."""
