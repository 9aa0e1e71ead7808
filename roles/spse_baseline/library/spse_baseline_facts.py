#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Gather a complete SPSE baseline of this host in one module execution.

One run per host is the whole point: every extra task is another round trip
(measured: a task-per-fact playbook took 6.9x Ansible's own fact gathering).
Secrets are replaced by a keyed hash here, on the host, before anything is
returned, so no clear secret ever reaches the controller or its artifacts.
Runs on Python 2.7 and 3.6+ (CentOS 7 keeps 2.7): the collectors live in
module_utils/spse_collectors.py, one class per area.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: spse_baseline_facts
short_description: Capture an SPSE server baseline in one execution
description:
  - Returns hardware, OS, packages, services, listening ports, parsed
    configuration files, live PostgreSQL settings and SPSE instances.
  - Secret values are returned only as C(secret:hmac-sha256:...) markers.
  - Paths come from the running services (PostgreSQL, Apache) where they run, from the OS
    family's layout otherwise; C(discovery) in the result says which.
options:
  hmac_key:
    description: Key of the installation's secret hash. Never logged.
    type: str
    required: true
  signing_key:
    description: Key that signs the result, when it is not C(hmac_key) (spse-change's own key
      file while an inventory's vaulted key hashes the secrets). Never logged.
    type: str
  result_host:
    description: The inventory name of this host (C(inventory_hostname)); the signature binds
      the result to it.
    type: str
    required: true
  signed_at:
    description: Capture time, UTC, C(YYYY-MM-DDTHH:MM:SS.ffffffZ), from the controller's clock
      (the baseline's id and C(captured_at) are made from it).
    type: str
    required: true
  secret_patterns:
    description: Globs of key names whose values are secret.
    type: list
    elements: str
    default: []
  appserv_root:
    description: Folder holding SPSE instances.
    type: path
    default: /home/appserv
  file_stores:
    description: SPSE upload folders (size and mount only, never content).
    type: list
    elements: path
    default: []
  pg_conf_dirs:
    description: PostgreSQL configuration folders, used only when no PostgreSQL runs (the running
      server says where its files are).
    type: list
    elements: path
    default: []
  apache_conf_dir:
    description: Apache server root, used only when no Apache runs (the running one says where
      its files are); the family layout's when empty.
    type: path
  extra_config_files:
    description: More files to record (hash and metadata; parsed when the kind is known).
    type: list
    elements: path
    default: []
  capture_database:
    description: Query the live PostgreSQL server.
    type: bool
    default: true
  capture_spse:
    description: Look for SPSE application instances.
    type: bool
    default: true
  inventory_groups:
    description: The host's inventory groups (C(group_names)), returned sorted as C(groups).
    type: list
    elements: str
    default: []
author: spse-change
"""

RETURN = r"""
spse_baseline_json:
  description:
    - One JSON string (Ansible walks one value instead of thousands) holding
      C(data) (hardware, os, packages, services, ports, config, database, spse,
      and C(database_<port>) for each further PostgreSQL cluster),
      C(incomplete) (category or C(category:subkey) to the reason it is missing),
      C(measurements) (sizes, not compared), C(discovery) (how each path was
      found, not compared) and C(groups) (the inventory groups given, sorted).
  returned: always
  type: str
spse_baseline_signature:
  description:
    - HMAC-SHA256 over the exact C(spse_baseline_json) string, C(result_host), C(signed_at) and a
      random nonce (module_utils/spse_signature.py); keys C(scheme), C(host), C(signed_at),
      C(nonce), C(hmac).
  returned: always
  type: dict
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spse_collectors import Context, collect_all
from ansible.module_utils.spse_secrets import SecretScrubber
from ansible.module_utils.spse_signature import HOST_RE, TIME_RE, sign


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hmac_key=dict(type="str", required=True, no_log=True),
            signing_key=dict(type="str", no_log=True),
            result_host=dict(type="str", required=True),
            signed_at=dict(type="str", required=True),
            secret_patterns=dict(type="list", elements="str", default=[]),
            appserv_root=dict(type="path", default="/home/appserv"),
            file_stores=dict(type="list", elements="path", default=[]),
            pg_conf_dirs=dict(type="list", elements="path", default=[]),
            apache_conf_dir=dict(type="path"),
            extra_config_files=dict(type="list", elements="path", default=[]),
            capture_database=dict(type="bool", default=True),
            capture_spse=dict(type="bool", default=True),
            inventory_groups=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    if len(module.params["hmac_key"]) < 32:
        module.fail_json(msg="hmac_key is too short (need at least 32 characters)")
    if not HOST_RE.match(module.params["result_host"]) or not TIME_RE.match(module.params["signed_at"]):
        module.fail_json(msg="result_host must be one line, signed_at YYYY-MM-DDTHH:MM:SS.ffffffZ")
    scrubber = SecretScrubber(module.params["hmac_key"].encode("utf-8"), module.params["secret_patterns"])
    ctx = Context(module, scrubber)
    result = collect_all(ctx)
    result["groups"] = sorted(set(module.params["inventory_groups"]))
    # One JSON string rather than a deep structure: Ansible then walks one value, not
    # thousands (no_log scrubbing, result processing), which halves its controller time.
    # Unsorted: the controller sorts when it stores, and Python 2.7 encodes sort_keys in pure
    # Python (measured on a 86 kB result: 11.7 ms against 3.3 ms).
    payload = json.dumps(result, separators=(",", ":"))
    signature = sign(module.params["signing_key"] or module.params["hmac_key"],
                     module.params["result_host"], module.params["signed_at"], payload)
    module.exit_json(changed=False, spse_baseline_json=payload, spse_baseline_signature=signature)


if __name__ == "__main__":
    main()
