locals {
  nodes = merge(
    { for i in range(var.servers) : "${var.environment}-server-${i + 1}" => {
    role = "server", vcpu = var.server_vcpu, memory = var.server_memory_mib } },
    { for i in range(var.agents) : "${var.environment}-agent-${i + 1}" => {
    role = "agent", vcpu = var.agent_vcpu, memory = var.agent_memory_mib } },
  )
}

# The cloud image, downloaded once per environment; every node's disk is a copy-on-write layer over it.
resource "libvirt_volume" "base" {
  name   = "stockmesh-${var.environment}-base.qcow2"
  pool   = var.storage_pool
  source = var.base_image_url
  format = "qcow2"
}

resource "libvirt_volume" "root" {
  for_each       = local.nodes
  name           = "${each.key}.qcow2"
  pool           = var.storage_pool
  base_volume_id = libvirt_volume.base.id
  size           = var.disk_bytes
  format         = "qcow2"
}

resource "libvirt_cloudinit_disk" "init" {
  for_each = local.nodes
  name     = "${each.key}-init.iso"
  pool     = var.storage_pool
  user_data = templatefile("${path.module}/templates/user-data.yaml.tftpl", {
    hostname        = each.key
    admin_user      = var.admin_user
    ssh_public_keys = var.ssh_public_keys
  })
  network_config = file("${path.module}/templates/network-config.yaml")
}

resource "libvirt_domain" "node" {
  for_each  = local.nodes
  name      = each.key
  vcpu      = each.value.vcpu
  memory    = each.value.memory
  autostart = true
  cloudinit = libvirt_cloudinit_disk.init[each.key].id

  cpu {
    mode = "host-passthrough"
  }

  disk {
    volume_id = libvirt_volume.root[each.key].id
  }

  network_interface {
    network_name   = var.network_name
    wait_for_lease = true # so the output has every node's address
  }

  # The serial console: cloud-init's log and an emergency shell, never a graphical one.
  console {
    type        = "pty"
    target_type = "serial"
    target_port = "0"
  }

  lifecycle {
    # A changed cloud image or cloud-init must not recreate a running node; rebuild one on purpose.
    ignore_changes = [cloudinit, disk]
  }
}
