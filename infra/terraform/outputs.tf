output "servers" {
  description = "k3s servers: name => address (the first bootstraps the cluster)"
  value = { for name, node in libvirt_domain.node : name => node.network_interface[0].addresses[0]
  if local.nodes[name].role == "server" }
}

output "agents" {
  description = "k3s agents: name => address"
  value = { for name, node in libvirt_domain.node : name => node.network_interface[0].addresses[0]
  if local.nodes[name].role == "agent" }
}

output "ansible_inventory" {
  description = "An inventory for infra/ansible/site.yml (terraform output -raw ansible_inventory > inventory/<env>.ini)"
  value = templatefile("${path.module}/templates/inventory.ini.tftpl", {
    environment = var.environment
    admin_user  = var.admin_user
    servers = { for name, node in libvirt_domain.node : name => node.network_interface[0].addresses[0]
    if local.nodes[name].role == "server" }
    agents = { for name, node in libvirt_domain.node : name => node.network_interface[0].addresses[0]
    if local.nodes[name].role == "agent" }
  })
}
