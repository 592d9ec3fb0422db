"""Decision 08/2023/QĐ-UBND: the organisation (units, users, roles), who may see and do what
(`access`), the tracking records (documents, tasks, progress, feedback, reports), the actions the
procedures' diagrams name, reporting rounds and their statistics, notifications with their e-mail
copies, attachments, API tokens, sign-in sessions and failed sign-ins. See docs/regulation.md."""
