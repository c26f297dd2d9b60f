# Trade feedback, satisfaction surveys and seller performance live here (see the feedback issue).
